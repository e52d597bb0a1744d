import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { kingbaseCommands } from '../../commands/kingbase-commands';
import { startBot, type Bot } from '../../src/slack/start-bot';
import type { Inventory } from '../../src/config/normalise-inventory';
import { readEnvOptions } from '../../src/config/read-env-options';
import { createLogger } from '../../src/log/create-logger';
import { artifactStream } from '../support/artifacts';
import { keepStateDirArtifacts } from '../support/store-artifacts';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { channelTranscript } from './support/channel-transcript';
import { waitForSlack } from './support/wait-for-slack';
import { startFakeSlack, type FakeMessage, type FakeSlack } from './support/fake-slack';
import { blockActionsBody, postToBolt, signedHeaders, slashCommandBody } from './support/sign-slack-request';

// What goes wrong, over the same wire as the happy path (signed HTTP to the real Bolt app, a fake
// Slack Web API, a private lab): a held cluster lock, Slack rate limits mid-run, an approval after
// the deadline, a rejection; and the happy thread pinned as a golden transcript.

const SECRET = '0e2e7a6b5c4d3e2f1a0b9c8d7e6f5a4b';
const MAIN = 'CKBOPS'; // lock + reject
const HAPPY = 'CHAPPY'; // the run that succeeds through 429s (and the golden thread)
const LATE = 'CLATE'; // the run left to expire
const GOLDEN = join(__dirname, '../golden/slack/add-node-thread.txt');

let pl: PrivateLab;
let slack: FakeSlack;
let bot: Bot;
let access: { approvalTtlMinutes: number };
const stateDirs: string[] = [];
let nonce = 0;

async function bootBot(inventory: Inventory): Promise<Bot> {
  const stateDir = mkdtempSync(join(tmpdir(), 'kbops-e2e-neg-'));
  stateDirs.push(stateDir);
  const options = readEnvOptions({
    SLACK_BOT_TOKEN: 'xoxb-e2e-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    KBOPS_STATE_DIR: stateDir,
    LOG_LEVEL: 'silent',
  });
  if (!options.ok) throw new Error(JSON.stringify(options.problems));
  return startBot({
    commands: kingbaseCommands(),
    options: options.options,
    inventory,
    env: process.env,
    logger: createLogger({ level: 'debug', destination: artifactStream('slack-negatives.log') }),
  });
}

async function send(to: Bot, body: string): Promise<void> {
  const r = await postToBolt(`http://127.0.0.1:${to.port}/slack/events`, body, signedHeaders(SECRET, body));
  expect(r.status).toBe(200);
}

const command = (to: Bot, user: string, channel: string, text: string) =>
  send(
    to,
    slashCommandBody({
      command: '/kingbase',
      text,
      user_id: user,
      channel_id: channel,
      response_url: slack.responseUrl(`neg${++nonce}`),
      trigger_id: slack.triggerId(),
    }),
  );

const click = (to: Bot, user: string, action: string, runId: string, channel: string, ts: string) =>
  send(
    to,
    blockActionsBody({ user_id: user, action_id: action, value: runId, channel_id: channel, message_ts: ts }),
  );

const until = <T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  ms?: number,
) => waitForSlack(slack, what, f, ms);

const shown = (m: FakeMessage | undefined) => JSON.stringify({ text: m?.text, blocks: m?.blocks ?? [] });
const runIdOn = (m: FakeMessage): string | undefined =>
  (m.blocks as { type: string; elements?: { value?: string }[] }[] | undefined)?.find(
    (b) => b.type === 'actions',
  )?.elements?.[0]?.value;
const stateOf = async (to: Bot, runId: string) => (await to.store.getRun(runId))?.state;
const ephemeralsTo = (user: string, channel: string) =>
  slack.ephemerals.filter((e) => e.user === user && e.channel === channel);

/** `/kingbase add-node lab <host 3>`; resolves with the new root once it has settled (plan or refusal). */
async function addNode(to: Bot, user: string, channel: string): Promise<FakeMessage> {
  const before = slack.roots(channel).length;
  await command(to, user, channel, `add-node lab ${pl.lab.hosts[2].address}`);
  return until(`${user}'s add-node root in ${channel}`, () => {
    const root = slack.roots(channel)[before];
    return root && !root.text.includes('preflight running') && root.updates.length > 0 && root;
  });
}

async function planned(
  to: Bot,
  user: string,
  channel: string,
): Promise<{ root: FakeMessage; runId: string }> {
  const root = await addNode(to, user, channel);
  const runId = runIdOn(root);
  if (!runId) throw new Error(`no plan with buttons: ${shown(root)}`);
  expect(runId).toMatch(/^R[A-Z0-9]{8}$/);
  return { root, runId };
}

beforeAll(async () => {
  pl = await startPrivateLab(80, 'slack-negatives');
  slack = await startFakeSlack();
  // This file's own copy of the lab's access rules, so one case can shorten the approval deadline.
  const copy = { ...pl.cluster.access };
  access = copy;
  bot = await bootBot({ ...pl.inventory, clusters: { lab: { ...pl.cluster, access: copy } } });
}, 180_000);

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await pl?.stop();
  for (const d of stateDirs) await keepStateDirArtifacts(d, 'slack-negatives').catch(() => undefined);
  for (const d of stateDirs) rmSync(d, { recursive: true, force: true });
});

it('refuses an approval after the deadline, says it expired, and audits it', async () => {
  // The real TTL path (RunService.submit sets expiresAt from access.approvalTtlMinutes, the engine's
  // expireDue ends the run, the vote is refused), with a deadline of 1.2 s: below what the inventory
  // schema accepts (>= 1 minute), so it is set on this file's copy of the loaded inventory, which the
  // bot reads on every call, and put back afterwards.
  access.approvalTtlMinutes = 0.02;
  try {
    const { root, runId } = await planned(bot, 'UBOB', LATE);
    await until('the run to expire', async () => (await stateOf(bot, runId)) === 'expired', 30_000);
    expect(await bot.store.getLock('lab')).toBeUndefined();

    await click(bot, 'UCAROL', 'run.approve', runId, LATE, root.ts);
    const told = await until('the refusal', () => ephemeralsTo('UCAROL', LATE)[0]);
    expect(told.text).toMatch(/expired/);
    // The stale message catches up: no more buttons on it.
    await until(
      'the root to show the expiry',
      () => /expired/.test(shown(root)) && !shown(root).includes('run.approve'),
    );
    expect(await stateOf(bot, runId)).toBe('expired');
    expect(await bot.store.approvals(runId)).toEqual([]);
    const audit = (await bot.store.events({ runId })).flatMap((e) =>
      e.event.type === 'audit' ? [{ actor: e.actor, action: e.event.action, data: e.event.data }] : [],
    );
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actor: 'UCAROL', action: 'run.approve' }),
        expect.objectContaining({
          actor: 'UCAROL',
          action: 'vote-refused',
          data: expect.objectContaining({ decision: 'approve' }),
        }),
      ]),
    );
  } finally {
    access.approvalTtlMinutes = pl.cluster.access.approvalTtlMinutes;
  }
}, 120_000);

let held: { root: FakeMessage; runId: string };

it('tells a second requester which run holds the cluster, and who asked for it', async () => {
  held = await planned(bot, 'UBOB', MAIN);
  const refused = await addNode(bot, 'UALICE', MAIN);
  expect(refused.text).toContain(`locked by run ${held.runId}, requested by UBOB`);
  expect(runIdOn(refused)).toBeUndefined(); // nothing to approve
  expect((await bot.store.listRuns({ cluster: 'lab' })).filter((r) => r.requester === 'UALICE')).toEqual([]);
  expect((await bot.store.getLock('lab'))?.runId).toBe(held.runId);
}, 120_000);

it('ends the run when an approver rejects it, and frees the cluster', async () => {
  await click(bot, 'UCAROL', 'run.reject', held.runId, MAIN, held.root.ts);
  await until('the run to be rejected', async () => (await stateOf(bot, held.runId)) === 'rejected');
  await until(
    'the root to say so',
    () => /rejected/i.test(shown(held.root)) && !shown(held.root).includes('run.approve'),
  );
  expect(await bot.store.getLock('lab')).toBeUndefined();
  const votes = await bot.store.approvals(held.runId);
  expect(votes.map((v) => [v.userId, v.decision])).toEqual([['UCAROL', 'reject']]);
}, 120_000);

let happy: { root: FakeMessage; runId: string };

it('succeeds through 429s on chat.update, honours Retry-After, and the root catches up', async () => {
  happy = await planned(bot, 'UALICE', HAPPY); // the lock the rejected run held is free again
  expect(happy.runId).not.toBe(held.runId);
  const from = slack.calls.length;
  slack.inject429('chat.update', 1, 2);
  await click(bot, 'UCAROL', 'run.approve', happy.runId, HAPPY, happy.root.ts);
  await until('the run to succeed', async () => (await stateOf(bot, happy.runId)) === 'succeeded', 180_000);
  await until('the root to say so', () => /succeeded/i.test(shown(happy.root)), 60_000);
  await until('the outbox to drain', () => {
    const last = slack.callsTo('chat.update').at(-1);
    return last?.status === 200 && /succeeded/i.test(JSON.stringify(last.args));
  });
  // The last message of the thread: what may follow (the failover runbook offers its drill).
  await until('the follow-up offers', () =>
    slack.replies(HAPPY, happy.root.ts).some((m) => m.text.includes('Plan a failover test')),
  );

  const during = slack.calls.slice(from);
  const limited = during.filter((c) => c.status === 429);
  expect(limited.map((c) => [c.method, c.args.channel])).toEqual([
    ['chat.update', HAPPY],
    ['chat.update', HAPPY],
  ]);
  // The outbox waits out Retry-After (1 s) in that channel before its next call there.
  for (const l of limited) {
    const next = during.find((c) => c.at > l.at && c.args.channel === HAPPY);
    expect(next).toBeDefined();
    expect(next!.at - l.at).toBeGreaterThanOrEqual(1000);
  }
  expect(shown(happy.root)).not.toMatch(/awaiting approval|run\.approve/);
  const replies = slack
    .replies(HAPPY, happy.root.ts)
    .map((m) => m.text)
    .join('\n');
  expect(replies).toContain('Verdict');
}, 300_000);

const happyThread = () => channelTranscript(slack, HAPPY, 'slack-negatives');

it('matches the golden transcript of the happy thread', () => {
  const actual = happyThread();
  expect(actual).toContain('# CHAPPY');
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(dirname(GOLDEN), { recursive: true });
    writeFileSync(GOLDEN, actual);
  }
  expect(existsSync(GOLDEN)).toBe(true); // UPDATE_GOLDEN=1 writes it
  expect(actual).toBe(readFileSync(GOLDEN, 'utf8'));
});
