import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kingbaseCommands } from '../../commands/kingbase-commands';
import type { Inventory } from '../../src/config/normalise-inventory';
import { readEnvOptions } from '../../src/config/read-env-options';
import { createLogger } from '../../src/log/create-logger';
import { startBot, type Bot } from '../../src/slack/start-bot';
import { labQuery, poolNodes } from '../integration/support/lab-tools';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { artifactStream } from '../support/artifacts';
import { keepStateDirArtifacts } from '../support/store-artifacts';
import {
  buttonsOn,
  clickBody,
  quiet,
  threadTranscripts,
  writeInventory,
  type ShownButton,
} from './support/drill-thread';
import { startFakeSlack, type FakeMessage, type FakeSlack } from './support/fake-slack';
import { postToBolt, signedHeaders, slashCommandBody } from './support/sign-slack-request';
import { waitForSlack } from './support/wait-for-slack';

// The failover drill's acceptance, over the wire Slack uses: signed slash commands and clicks to
// the real Bolt app, the Web API faked locally, a private lab (base 240) as the cluster. srv243 is
// added from Slack first; then UBOB asks for a failover test, which needs two approvers other than
// him: his own click is refused, UCAROL's counts once however often she clicks, UDAVE's completes
// it. The drill stops srv242 and the primary srv241, srv243 is promoted, and the verdict says so
// with the failover time and the rows lost; the restore, planned from the thread's follow-up
// button and approved by two, brings srv241 and srv242 back as standbys streaming from srv243.

const BASE = 240;
const LAB = 'e2e-drill';
const SECRET = '3c1d5e7f9a0b2c4d6e8f0a1b3c5d7e9f';
const ADD = 'CADDNODE'; // the add-node thread
const DRILL = 'CDRILL'; // the drill's thread and the restore's
const GOLDEN_DRILL = join(__dirname, '../golden/slack/failover-drill-thread.txt');
const GOLDEN_RESTORE = join(__dirname, '../golden/slack/failover-restore-thread.txt');
// Slack four times as fast as the real one (which takes about one message per second per channel):
// the bot paces itself to it and the fake's buckets hold it to it, so a 429 still fails the test,
// while three threads of 20–50 messages drain in seconds rather than minutes.
const SPEED = 4;
const PACE_MS = 1000 / SPEED;

let pl: PrivateLab;
let slack: FakeSlack;
let bot: Bot;
let stateDir: string;
let inventory: Inventory;
const elapsed: number[] = [];
const t0 = Date.now();
const timeline: string[] = [];
const mark = (what: string) =>
  timeline.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`);

async function send(body: string): Promise<void> {
  const r = await postToBolt(`http://127.0.0.1:${bot.port}/slack/events`, body, signedHeaders(SECRET, body));
  elapsed.push(r.elapsedMs);
  expect(r.status).toBe(200);
}

const command = (user: string, channel: string, text: string) =>
  send(
    slashCommandBody({
      command: '/kingbase',
      text,
      user_id: user,
      channel_id: channel,
      response_url: slack.responseUrl(`drill${elapsed.length}`),
      trigger_id: slack.triggerId(),
    }),
  );

const press = (user: string, channel: string, on: FakeMessage, button: ShownButton) =>
  send(clickBody(user, channel, on, button));

const until = <T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 60_000,
) => waitForSlack(slack, what, f, ms);

const shown = (m: FakeMessage) => `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;
const stateOf = async (runId: string) => (await bot.store.getRun(runId))?.state;
const ephemeralTo = (user: string, says: string) =>
  slack.ephemerals.find((e) => e.user === user && e.text.includes(says));
const approversOf = async (runId: string) =>
  (await bot.store.approvals(runId)).filter((a) => a.decision === 'approve').map((a) => a.userId);

/** The newest root in `channel` showing an Approve button (the plan is on the table). */
async function plannedRoot(channel: string, after: number) {
  const root = await until(
    `a plan with buttons in ${channel}`,
    () =>
      slack
        .roots(channel)
        .slice(after)
        .find((m) => buttonsOn(m).some((b) => b.action_id === 'run.approve')),
    90_000,
  );
  const approve = buttonsOn(root).find((b) => b.action_id === 'run.approve')!;
  expect(approve.value).toMatch(/^R[A-Z0-9]{8}$/);
  return { root, approve, runId: approve.value };
}

async function succeeded(runId: string, ms: number) {
  await until(
    `run ${runId} to end`,
    async () => !['awaiting_approval', 'approved', 'running'].includes((await stateOf(runId)) ?? ''),
    ms,
  );
  const run = await bot.store.getRun(runId);
  if (run?.state !== 'succeeded') {
    const events = (await bot.store.events({ runId })).map((e) => JSON.stringify(e.event).slice(0, 400));
    throw new Error(`run ${runId} ended ${run?.state}:\n${events.join('\n')}`);
  }
}

const host = (i: 0 | 1 | 2) => ({ host: pl.lab.hosts[i].address, port: pl.lab.sqlPort });
const inRecovery = async (i: 0 | 1 | 2) =>
  (await labQuery<{ r: boolean }>(pl.lab, host(i), 'select pg_is_in_recovery() as r'))[0]?.r;

beforeAll(async () => {
  mark('start');
  pl = await startPrivateLab(BASE, LAB);
  mark('lab up');
  stateDir = mkdtempSync(join(tmpdir(), 'kbops-e2e-drill-'));
  // The acceptance's team: UBOB requests (and is an approver, so his refusal is the requester
  // rule's), UCAROL and UDAVE approve.
  inventory = await writeInventory(pl.lab.inventoryPath, stateDir, {
    requesters: ['UALICE', 'UBOB'],
    approvers: ['UBOB', 'UCAROL', 'UDAVE'],
    admins: ['UCAROL'],
  });
  slack = await startFakeSlack({
    rateLimits: {
      'chat.postMessage': { capacity: 3, refillPerSecond: SPEED, perChannel: true },
      'chat.update': { capacity: 50, refillPerSecond: (50 / 60) * SPEED, perChannel: false },
    },
  });
  const options = readEnvOptions({
    SLACK_BOT_TOKEN: 'xoxb-e2e-drill',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    KBOPS_STATE_DIR: join(stateDir, 'state'),
    LOG_LEVEL: 'silent',
  });
  if (!options.ok) throw new Error(JSON.stringify(options.problems));
  bot = await startBot({
    commands: kingbaseCommands(),
    options: options.options,
    inventory,
    env: process.env,
    logger: createLogger({ level: 'debug', destination: artifactStream('slack-failover-drill.log') }),
    minIntervalMs: PACE_MS,
  });
  mark('bot up');
}, 180_000);

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await pl?.stop();
  if (stateDir && existsSync(join(stateDir, 'state')))
    await keepStateDirArtifacts(join(stateDir, 'state'), 'slack-failover-drill').catch(() => undefined);
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  process.stderr.write(`slack-failover-drill timeline:\n${timeline.join('\n')}\n`);
}, 120_000);

it('the access rules are the acceptance team, read from an inventory file', () => {
  const access = inventory.clusters.lab!.access;
  expect([access.requesters.users, access.approvers.users]).toEqual([
    ['UALICE', 'UBOB'],
    ['UBOB', 'UCAROL', 'UDAVE'],
  ]);
});

it('adds srv243 from Slack: UBOB asks, UCAROL approves', async () => {
  await command('UBOB', ADD, `add-node lab ${pl.lab.hosts[2].address}`);
  const { runId, root, approve } = await plannedRoot(ADD, 0);
  await press('UCAROL', ADD, root, approve);
  await succeeded(runId, 150_000);
  expect(await inRecovery(2)).toBe(true);
  mark('srv243 added');
}, 200_000);

let drill: { root: FakeMessage; runId: string };

it('the failover test needs two approvers other than the requester; a vote counts once', async () => {
  await command('UBOB', DRILL, 'failover-test lab');
  const { root, approve, runId } = await plannedRoot(DRILL, 0);
  drill = { root, runId };
  mark('drill planned');
  expect(root.text).toContain('failover test of lab');
  expect(root.text).toContain('requested by <@UBOB>');
  expect(shown(root)).toContain('needs 2 approvals (the requester cannot approve)');
  expect(shown(root)).toContain('0 of 2 approved');
  const run = await bot.store.getRun(runId);
  expect(run?.plan.params).toMatchObject({ phase: 'drill', expectedWinner: 'srv243' });
  expect(run?.plan.approvals).toEqual({ min: 2, requesterExcluded: true });

  // The requester, although an approver of lab: refused, nothing counted.
  await press('UBOB', DRILL, root, approve);
  await until("UBOB's refusal", () => ephemeralTo('UBOB', 'another approver must approve it'));
  expect(await approversOf(runId)).toEqual([]);

  // UCAROL: one of two, the run still waits and the root says so.
  await press('UCAROL', DRILL, root, approve);
  await until('the root to show 1 of 2', () => shown(root).includes('1 of 2 approved by <@UCAROL>'));
  expect(await stateOf(runId)).toBe('awaiting_approval');
  expect(buttonsOn(root).map((b) => b.action_id)).toContain('run.approve');

  // UCAROL again (a second click, not a retried delivery): refused, counted once.
  await press('UCAROL', DRILL, root, approve);
  const again = await until('the second vote refused', () =>
    ephemeralTo('UCAROL', 'You have already approved this plan'),
  );
  expect(again.text).toContain('It needs 1 more approval from someone else.');
  expect(await approversOf(runId)).toEqual(['UCAROL']);
  expect(await stateOf(runId)).toBe('awaiting_approval');
  expect(shown(root)).toContain('1 of 2 approved by <@UCAROL>');

  // UDAVE: the second approval; the drill runs.
  await press('UDAVE', DRILL, root, approve);
  await until('the drill to start', async () => (await stateOf(runId)) !== 'awaiting_approval');
  expect(await approversOf(runId)).toEqual(['UCAROL', 'UDAVE']);
  mark('drill approved');
}, 150_000);

it('the drill promotes srv243 and its verdict shows the winner, the failover time and the rows lost', async () => {
  await succeeded(drill.runId, 150_000);
  mark('drill succeeded');
  expect(await inRecovery(2)).toBe(false); // srv243 is the primary
  const verdict = await until('the verdict card', () =>
    slack.replies(DRILL, drill.root.ts).find((m) => m.text.startsWith('Verdict for')),
  );
  const card = shown(verdict);
  expect(verdict.text).toMatch(/: passed, \d+ of \d+ checks$/);
  expect(card).toContain('srv243 promoted within 60 s (expected winner)');
  expect(card).toMatch(/srv243 promoted within 60 s \(expected winner\)\* — failover time \d+\.\d s/);
  expect(card).toContain('0 of 100 acknowledged rows lost');
  expect(card).toContain('the pool lists srv243 as its primary, up');
  await until('the root to say succeeded', () => /succeeded/.test(drill.root.text), 60_000);
  expect(shown(drill.root)).toContain('2 of 2 approved by <@UCAROL>, <@UDAVE>');
}, 200_000);

let restore: { root: FakeMessage; runId: string };

it("the restore, planned from the thread's offer and approved by two, brings every node back streaming from srv243", async () => {
  const offer = await until(
    "the drill thread's offer",
    () =>
      slack
        .replies(DRILL, drill.root.ts)
        .find((m) => buttonsOn(m).some((b) => b.action_id === 'follow-up.plan')),
    90_000,
  );
  const button = buttonsOn(offer).find((b) => b.text === 'Plan the restore');
  expect(button).toBeDefined();
  expect(JSON.parse(button!.value)).toEqual({
    runbook: 'failover-test',
    from: drill.runId,
    values: { cluster: 'lab', phase: 'restore' },
  });
  const before = slack.roots(DRILL).length;
  await press('UBOB', DRILL, offer, button!);
  const { root, approve, runId } = await plannedRoot(DRILL, before);
  restore = { root, runId };
  mark('restore planned');
  expect(root.text).toContain('restore roles in lab after a failover test, requested by <@UBOB>');
  expect(shown(root)).toContain('needs 2 approvals (the requester cannot approve)');
  expect((await bot.store.getRun(runId))?.plan.params).toMatchObject({
    phase: 'restore',
    rejoin: ['srv241', 'srv242'],
  });
  await press('UCAROL', DRILL, root, approve);
  await until('the root to show 1 of 2', () => shown(root).includes('1 of 2 approved by <@UCAROL>'));
  expect(await stateOf(runId)).toBe('awaiting_approval');
  await press('UDAVE', DRILL, root, approve);
  await succeeded(runId, 150_000);
  mark('restore succeeded');

  const streaming = await labQuery<{ application_name: string; state: string }>(
    pl.lab,
    host(2),
    'select application_name, state from pg_stat_replication order by 1',
  );
  expect(streaming).toEqual([
    { application_name: 'srv241', state: 'streaming' },
    { application_name: 'srv242', state: 'streaming' },
  ]);
  expect([await inRecovery(0), await inRecovery(1), await inRecovery(2)]).toEqual([true, true, false]);
  // pgpool restarts its children after attaching: ask again until it answers with all three.
  let pool: Awaited<ReturnType<typeof poolNodes>>;
  for (let i = 0; i < 60; i++) {
    pool = await poolNodes(pl.lab);
    if (pool?.length === 3 && pool.every((n) => n.status === 'up')) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(pool!.map((n) => [n.node_id, n.hostname, n.status, n.role])).toEqual([
    ['0', pl.lab.hosts[0].address, 'up', 'standby'],
    ['1', pl.lab.hosts[1].address, 'up', 'standby'],
    ['2', pl.lab.hosts[2].address, 'up', 'primary'],
  ]);
}, 200_000);

it('the add-node thread offered the failover test of the new node', async () => {
  const addRoot = slack.roots(ADD)[0]!;
  const offer = await until('the add-node offer', () =>
    slack.replies(ADD, addRoot.ts).find((m) => buttonsOn(m).some((b) => b.text === 'Plan a failover test')),
  );
  const button = buttonsOn(offer).find((b) => b.text === 'Plan a failover test')!;
  expect(JSON.parse(button.value)).toMatchObject({
    runbook: 'failover-test',
    values: { cluster: 'lab', target: 'srv243' },
  });
  expect(offer.text).toContain('Plan a failover test');
});

it('the drill thread and the restore thread match their golden transcripts', async () => {
  await until('the restore root to say succeeded', () => /succeeded/.test(restore.root.text), 60_000);
  await quiet(slack);
  mark('Slack quiet');
  const [drillThread, restoreThread, ...more] = threadTranscripts(slack, DRILL, LAB);
  expect(more).toEqual([]);
  expect(drillThread).toContain('failover test of lab');
  expect(restoreThread).toContain('restore roles in lab');
  if (process.env.UPDATE_GOLDEN === '1') {
    writeFileSync(GOLDEN_DRILL, drillThread!);
    writeFileSync(GOLDEN_RESTORE, restoreThread!);
  }
  expect(drillThread).toBe(readFileSync(GOLDEN_DRILL, 'utf8'));
  expect(restoreThread).toBe(readFileSync(GOLDEN_RESTORE, 'utf8'));
  // Every request was answered within Slack's 3 s, and no call was rate limited.
  expect(Math.max(...elapsed)).toBeLessThan(3000);
  expect(slack.calls.filter((c) => c.status === 429).map((c) => c.method)).toEqual([]);
}, 120_000);
