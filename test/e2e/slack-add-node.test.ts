import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kingbaseCommands } from '../../commands/kingbase-commands';
import { startBot, type Bot } from '../../src/slack/start-bot';
import { readEnvOptions } from '../../src/config/read-env-options';
import { createLogger } from '../../src/log/create-logger';
import { artifactStream } from '../support/artifacts';
import { keepStateDirArtifacts } from '../support/store-artifacts';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { channelTranscript } from './support/channel-transcript';
import { waitForSlack } from './support/wait-for-slack';
import { startFakeSlack, type FakeSlack } from './support/fake-slack';
import { blockActionsBody, postToBolt, signedHeaders, slashCommandBody } from './support/sign-slack-request';

// The whole conversation over HTTP, as Slack would hold it: signed slash command and clicks to the
// real Bolt app, the Web API faked locally, the cluster a real lab. A asks, A's own approval is
// refused, B approves, host 3 is added, and the thread tells it all.

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5'.replace(/[yz]/g, 'f');
const CHANNEL = 'CKBOPS';
let pl: PrivateLab;
let slack: FakeSlack;
let bot: Bot;
let stateDir: string;
let url: string;
const responses: number[] = [];

async function send(body: string, headers = signedHeaders(SECRET, body)) {
  const r = await postToBolt(url, body, headers);
  responses.push(r.elapsedMs);
  return r;
}

const command = (user: string, text: string) =>
  send(
    slashCommandBody({
      command: '/kingbase',
      text,
      user_id: user,
      channel_id: CHANNEL,
      response_url: slack.responseUrl(`c${responses.length}`),
      trigger_id: slack.triggerId(),
    }),
  );

const click = (user: string, action: string, runId: string, messageTs: string) =>
  send(
    blockActionsBody({
      user_id: user,
      action_id: action,
      value: runId,
      channel_id: CHANNEL,
      message_ts: messageTs,
    }),
  );

const until = <T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  ms?: number,
) => waitForSlack(slack, what, f, ms);

const rootText = () => JSON.stringify(slack.roots(CHANNEL).at(-1)?.blocks ?? []);
const ephemeralsFor = (user: string) =>
  slack.ephemerals.filter((e) => (e as unknown as { user: string }).user === user);

beforeAll(async () => {
  pl = await startPrivateLab(60, 'slack');
  slack = await startFakeSlack();
  stateDir = mkdtempSync(join(tmpdir(), 'kbops-e2e-'));
  const env = {
    SLACK_BOT_TOKEN: 'xoxb-e2e-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    KBOPS_STATE_DIR: stateDir,
    LOG_LEVEL: 'silent',
  };
  const options = readEnvOptions(env);
  if (!options.ok) throw new Error(JSON.stringify(options.problems));
  bot = await startBot({
    commands: kingbaseCommands(),
    options: options.options,
    inventory: pl.inventory,
    env: process.env,
    logger: createLogger({ level: 'debug', destination: artifactStream('slack-add-node.log') }),
  });
  url = `http://127.0.0.1:${bot.port}/slack/events`;
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await pl?.stop();
  if (stateDir) await keepStateDirArtifacts(stateDir, 'slack-add-node');
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

it('refuses a bad signature and a stale timestamp', async () => {
  const body = slashCommandBody({
    command: '/kingbase',
    text: 'help',
    user_id: 'UALICE',
    channel_id: CHANNEL,
  });
  expect((await send(body, signedHeaders('0'.repeat(32), body))).status).toBe(401);
  const stale = Math.floor(Date.now() / 1000) - 10 * 60;
  expect((await send(body, signedHeaders(SECRET, body, stale))).status).toBe(401);
});

it('plans, refuses self-approval and outsiders, and runs once approved', async () => {
  // UBOB both requests and may approve; UCAROL approves; UMALLORY is nobody here.
  const asked = await command('UBOB', `add-node lab ${pl.lab.hosts[2].address}`);
  expect(asked.status).toBe(200);
  const root = await until(
    'the plan with buttons',
    () => rootText().includes('run.approve') && slack.roots(CHANNEL).at(-1),
  );
  // Buttons carry only the run id.
  const runId = JSON.parse(rootText()).find((b: { type: string }) => b.type === 'actions').elements[0]
    .value as string;
  expect(runId).toMatch(/^R[A-Z0-9]{8}$/);

  await click('UBOB', 'run.approve', runId, root.ts); // the requester
  await until("A's refusal", () =>
    ephemeralsFor('UBOB').some((e) => e.text.includes('another approver must approve it')),
  );
  await click('UMALLORY', 'run.approve', runId, root.ts); // not an approver
  await until("the outsider's refusal", () => ephemeralsFor('UMALLORY').length > 0);
  expect(ephemeralsFor('UMALLORY')[0]!.text).toMatch(/not an approver/);

  await Promise.all([
    click('UCAROL', 'run.approve', runId, root.ts),
    click('UCAROL', 'run.approve', runId, root.ts),
  ]); // double click
  let state = '';
  await until(
    'the run to succeed',
    () => {
      void bot.store.getRun(runId).then((r) => (state = r?.state ?? ''));
      return state === 'succeeded';
    },
    180_000,
  );
  await until(
    'the root to say so',
    () => /succeeded/i.test(JSON.stringify(slack.roots(CHANNEL).at(-1))),
    60_000,
  );
  // The last message of the thread: what may follow (the failover runbook offers its drill).
  await until('the follow-up offers', () =>
    slack.replies(CHANNEL, root.ts).some((m) => m.text.includes('Plan a failover test')),
  );
  const approvals = (await bot.store.approvals(runId)).filter((a) => a.decision === 'approve');
  expect(approvals.map((a) => a.userId)).toEqual(['UCAROL']);
  const audit = await bot.store.events({ runId });
  expect(
    audit.some(
      (e) => e.actor === 'UMALLORY' && e.event.type === 'audit' && e.event.action === 'vote-refused',
    ),
  ).toBe(true);

  const replies = slack
    .replies(CHANNEL, root.ts)
    .map((m) => m.text)
    .join('\n');
  expect(replies).toContain('Verdict');
  expect(replies).toMatch(/copy srv61 to srv63/);
  expect(slack.calls.filter((c) => c.status === 429)).toEqual([]);
  expect(Math.max(...responses)).toBeLessThan(3000);

  // The whole thread, as the channel saw it: root, replies and the final content of each update.
  const GOLDEN = join(__dirname, '../golden/slack/add-node-a-b-thread.txt');
  const actual = channelTranscript(slack, CHANNEL, 'slack');
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, actual);
  expect(actual).toBe(readFileSync(GOLDEN, 'utf8'));
}, 300_000);
