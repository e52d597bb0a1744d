import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kingbaseCommands } from '../../commands/kingbase-commands';
import { startBot, type Bot } from '../../src/slack/start-bot';
import { readEnvOptions } from '../../src/config/read-env-options';
import { createLogger } from '../../src/log/create-logger';
import { labCluster } from '../unit/chatops/chatops-harness';
import { startFakeSlack, type FakeSlack } from './support/fake-slack';
import { blockActionsBody, postToBolt, signedHeaders, slashCommandBody } from './support/sign-slack-request';
import { waitForSlack } from './support/wait-for-slack';

// Hostile input over the real wire: signed HTTP into the real Bolt app, replies through a fake
// Slack Web API. No lab: every case must be refused before kbops connects anywhere (the inventory's
// hosts do not exist), with one ephemeral reply that echoes nothing as Slack syntax.

const SECRET = '5b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e';
const CHANNEL = 'CHOSTILE';
const PWNED = '/tmp/kbops-pwned-by-hostile-slack';

let slack: FakeSlack;
let bot: Bot;
let stateDir: string;
let nonce = 0;

beforeAll(async () => {
  slack = await startFakeSlack();
  stateDir = mkdtempSync(join(tmpdir(), 'kbops-e2e-hostile-'));
  const options = readEnvOptions({
    SLACK_BOT_TOKEN: 'xoxb-e2e-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    KBOPS_STATE_DIR: stateDir,
    LOG_LEVEL: 'silent',
  });
  if (!options.ok) throw new Error(JSON.stringify(options.problems));
  const lab = await labCluster({ access: { ...(await labCluster()).access, channels: [CHANNEL] } });
  bot = await startBot({
    commands: kingbaseCommands(),
    options: options.options,
    inventory: { clusters: { lab }, reports: [] },
    env: {},
    logger: createLogger({ level: 'silent' }),
  });
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

async function send(body: string): Promise<void> {
  const r = await postToBolt(`http://127.0.0.1:${bot.port}/slack/events`, body, signedHeaders(SECRET, body));
  expect(r.status).toBe(200);
}

const command = (text: string) =>
  send(
    slashCommandBody({
      command: '/kingbase',
      text,
      user_id: 'UALICE',
      channel_id: CHANNEL,
      response_url: slack.responseUrl(`hostile${++nonce}`),
      trigger_id: slack.triggerId(),
    }),
  );

async function reply(before: number): Promise<string> {
  const e = await waitForSlack(slack, 'the ephemeral reply', () => slack.ephemerals[before]);
  expect(e).toMatchObject({ user: 'UALICE', channel: CHANNEL });
  return JSON.stringify({ text: e.text, blocks: e.blocks });
}

const expectInert = (shown: string) => {
  expect(shown.includes('<')).toBe(false);
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  expect(shown).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202a-\u202e]/);
  expect(slack.roots(CHANNEL)).toEqual([]); // nothing said in the channel
  expect(existsSync(PWNED)).toBe(false);
};

it.each([
  ['host with a command', `add-node lab 127.0.0.13;touch${'${IFS}'}${PWNED}`, /host: /],
  ['host <!channel>', 'add-node lab <!channel>', /host: /],
  ['cluster as a mention', 'add-node <@U0ADMIN> 127.0.0.13', /cluster: .*&lt;@U0ADMIN&gt;/],
  ['cluster as a link', 'runs <https://evil.example|lab>', /cluster: .*&lt;https:/],
  ['run id with path traversal', 'show ../../etc/passwd', /run: /],
  ['unknown sub-command <!here>', '<!here> now', /Unknown sub-command `&lt;!here&gt;`/],
  ['name with RTL override', 'add-node lab 127.0.0.13 name=srv\u202e31', /name: /],
])('/kingbase %s: refused, to the typist only, nothing echoed as Slack syntax', async (_n, text, says) => {
  const before = slack.ephemerals.length;
  await command(text);
  const shown = await reply(before);
  expect(shown).toMatch(says);
  expectInert(shown);
  expect(await bot.store.listRuns()).toEqual([]);
});

it('a button whose value is not a run id is refused, with the value escaped', async () => {
  const before = slack.ephemerals.length;
  await send(
    blockActionsBody({
      user_id: 'UALICE',
      action_id: 'run.approve',
      value: '<!channel> ../../x',
      channel_id: CHANNEL,
      message_ts: '1700000000.000100',
    }),
  );
  const shown = await reply(before);
  expect(shown).toMatch(/run: `&lt;!channel&gt; \.\.\/\.\.\/x` is not a run id/);
  expectInert(shown);
});

it('a form submission with a host that smuggles an option is refused on the host', async () => {
  const before = slack.ephemerals.length;
  const payload = {
    type: 'view_submission',
    team: { id: 'T0KBOPS', domain: 'kbops-test' },
    user: { id: 'UALICE', username: 'alice', team_id: 'T0KBOPS' },
    api_app_id: 'A0KBOPS',
    token: 'verification-token-unused',
    trigger_id: slack.triggerId(),
    view: {
      id: 'V0HOSTILE',
      type: 'modal',
      callback_id: 'kingbase.add-node',
      private_metadata: CHANNEL,
      state: {
        values: {
          cluster: { cluster: { type: 'static_select', selected_option: { value: 'lab' } } },
          host: { host: { type: 'plain_text_input', value: '127.0.0.13 name=evil <!channel>' } },
          name: { name: { type: 'plain_text_input', value: null } },
        },
      },
    },
  };
  await send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  const shown = await reply(before);
  expect(shown).toMatch(/host: /);
  expectInert(shown);
});
