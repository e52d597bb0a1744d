import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kingbaseCommands } from '../../commands/kingbase-commands';
import { runCli } from '../../src/cli/main';
import type { CommandIo } from '../../src/cli/cli-io';
import { readEnvOptions } from '../../src/config/read-env-options';
import { runConsole } from '../../src/console/kbops-console';
import { createLogger } from '../../src/log/create-logger';
import { RUNBOOKS } from '../../src/runbooks';
import { runbookProblems } from '../../src/runbooks/runbook';
import { startBot, type Bot } from '../../src/slack/start-bot';
import { leaveNoteRunbook } from '../fixtures/leave-note/leave-note-runbook';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { artifactStream } from '../support/artifacts';
import { startFakeSlack, type FakeSlack } from './support/fake-slack';
import {
  postToBolt,
  signedHeaders,
  slashCommandBody,
  viewSubmissionBody,
  blockActionsBody,
} from './support/sign-slack-request';
import { waitForSlack } from './support/wait-for-slack';

// Issue 9's acceptance: a runbook from a test folder, registered with one line, is reachable from
// Slack (typed and with its modal), the CLI and the console, and listed in help, while no file of
// kbops names it. It leaves a note file on the second data node of a lab of its own and reads it back.

const REGISTRY = [...RUNBOOKS, leaveNoteRunbook]; // the one registration line
const SECRET = '0123456789abcdef0123456789abcdef';
const CHANNEL = 'CPLUGIN';
let pl: PrivateLab;
let slack: FakeSlack;
let bot: Bot;
let url: string;
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kbops-plugin-'));
  dirs.push(d);
  return d;
};

const send = (body: string) => postToBolt(url, body, signedHeaders(SECRET, body));
const command = (user: string, text: string) =>
  send(
    slashCommandBody({
      command: '/kingbase',
      text,
      user_id: user,
      channel_id: CHANNEL,
      trigger_id: slack.triggerId(),
    }),
  );
const until = <T>(what: string, f: () => T | undefined | false) => waitForSlack(slack, what, f, 60_000);
const node = () => pl.lab.hosts[1].name;
const notes = () =>
  execFileSync('sh', ['-c', `ls ${pl.lab.hosts[1].clusterPath}/log | grep '^kbops-note-' || true`], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);

beforeAll(async () => {
  pl = await startPrivateLab(200, 'plugin');
  slack = await startFakeSlack();
  const options = readEnvOptions({
    SLACK_BOT_TOKEN: 'xoxb-plugin-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    KBOPS_STATE_DIR: tempDir(),
    LOG_LEVEL: 'silent',
  });
  if (!options.ok) throw new Error(JSON.stringify(options.problems));
  bot = await startBot({
    commands: kingbaseCommands(REGISTRY),
    runbooks: REGISTRY,
    options: options.options,
    inventory: pl.inventory,
    env: process.env,
    logger: createLogger({ level: 'debug', destination: artifactStream('runbook-plugin.log') }),
    minIntervalMs: 50,
  });
  url = `http://127.0.0.1:${bot.port}/slack/events`;
}, 120_000);

afterAll(async () => {
  await bot?.stop();
  await slack?.close();
  await pl?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

it('is a well-formed runbook that no file of kbops names', () => {
  expect(runbookProblems(leaveNoteRunbook)).toEqual([]);
  const named = execFileSync('sh', ['-c', 'grep -rl leave-note src commands || true'], {
    encoding: 'utf8',
  }).trim();
  expect(named).toBe('');
});

it('is listed in /kingbase help', async () => {
  await command('UBOB', 'help');
  const help = await until('help', () => slack.ephemerals.find((e) => e.text.includes('leave-note')));
  expect(JSON.stringify(help)).toContain(
    '/kingbase leave-note &lt;cluster&gt; &lt;node&gt; [note=&lt;text&gt;]',
  );
});

it('opens its modal from chat, plans from the submitted form, and runs once another person approves', async () => {
  await command('UBOB', 'leave-note');
  const opened = await until('the modal', () =>
    slack.views.find((v) => v.opened.callback_id === 'kingbase.leave-note'),
  );
  const view = opened.opened;
  expect((view.blocks as Array<{ block_id: string }>).map((b) => b.block_id)).toEqual([
    'cluster',
    'node',
    'note',
  ]);
  await send(
    viewSubmissionBody({
      user_id: 'UBOB',
      view,
      values: {
        cluster: { cluster: { type: 'static_select', selected_option: { value: 'lab' } } },
        node: { node: { type: 'plain_text_input', value: node() } },
        note: { note: { type: 'plain_text_input', value: 'from the modal' } },
      },
    }),
  );
  const root = await until('the plan with buttons', () =>
    slack.roots(CHANNEL).find((m) => JSON.stringify(m.blocks ?? []).includes('run.approve')),
  );
  expect(root.text).toContain(`leave a note on ${node()} of lab`);
  const replies = () => slack.replies(CHANNEL, root.ts).map((m) => JSON.stringify(m.blocks ?? []));
  await until('the full plan in the thread', () => replies().some((r) => r.includes('write-note')));
  const runId = JSON.parse(JSON.stringify(root.blocks)).find((b: { type: string }) => b.type === 'actions')
    .elements[0].value as string;
  await send(
    blockActionsBody({
      user_id: 'UCAROL',
      action_id: 'run.approve',
      value: runId,
      channel_id: CHANNEL,
      message_ts: root.ts,
    }),
  );
  await until('the run to succeed', async () => (await bot.store.getRun(runId))?.state === 'succeeded');
  const written = notes().map((n) => readFileSync(join(pl.lab.hosts[1].clusterPath, 'log', n), 'utf8'));
  expect(written).toContain('from the modal\n');
}, 120_000);

it('plans and runs from the CLI: kbops plan leave-note, kbops run leave-note --yes', async () => {
  const out: string[] = [];
  const io: CommandIo = { out: (t) => out.push(t), err: (t) => out.push(t), tty: false };
  const env = { ...process.env, KBOPS_INVENTORY: pl.lab.inventoryPath, KBOPS_STATE_DIR: tempDir() };
  const front = { runbooks: REGISTRY, chatCommands: kingbaseCommands };
  await runCli(['help'], env, io, front);
  expect(out.join('\n')).toContain('leave-note --cluster <cluster> --node <node> [--note <text>]');
  const before = notes().length;
  expect(await runCli(['plan', 'leave-note', '--cluster', 'lab', '--node', node()], env, io, front)).toBe(0);
  expect(out.join('\n')).toContain(`ok   node-answers: ${node()} answers SQL`);
  expect(notes().length).toBe(before); // a plan changes nothing
  const code = await runCli(
    ['run', 'leave-note', '--cluster', 'lab', '--node', node(), '--note', 'from the CLI', '--yes'],
    env,
    io,
    front,
  );
  expect([code, out.join('\n')]).toEqual([0, expect.stringContaining(`read the note back on ${node()}`)]);
  expect(notes().length).toBe(before + 1);
}, 120_000);

it('plans and runs from the console, typed', async () => {
  let text = '';
  async function* lines() {
    yield* ['as UBOB', `/kingbase leave-note lab ${node()} note=console`, 'as UCAROL', 'press 1', 'wait'];
  }
  await runConsole({
    inventory: pl.inventory,
    env: process.env,
    input: lines(),
    out: { write: (t: string) => (text += t) },
    commands: kingbaseCommands(REGISTRY),
    runbooks: REGISTRY,
    store: { KBOPS_STATE_DIR: tempDir() },
  });
  expect(text).toContain(`leave a note on ${node()} of lab`);
  expect(text).toMatch(/latest run R[A-Z0-9]{8} on lab: succeeded/);
  expect(existsSync(pl.lab.hosts[1].clusterPath)).toBe(true);
}, 120_000);
