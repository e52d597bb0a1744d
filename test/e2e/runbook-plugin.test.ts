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
const until = <T>(what: string, f: () => T | undefined | false | Promise<T | undefined | false>) =>
  waitForSlack(slack, what, f, 60_000);
const press = (user: string, action: string, value: string, messageTs: string) =>
  send(
    blockActionsBody({ user_id: user, action_id: action, value, channel_id: CHANNEL, message_ts: messageTs }),
  );
type Shown = { type: string; elements?: Array<{ action_id: string; value: string; text: { text: string } }> };
const buttonsOf = (m: { blocks?: unknown }) =>
  ((m.blocks ?? []) as Shown[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
const ephemeralFor = (user: string, says: string) =>
  slack.ephemerals.find((e) => (e as unknown as { user: string }).user === user && e.text.includes(says));
/** The thread of the run planned from the modal (it succeeds, and is offered a follow-up). */
let modalRoot = '';
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
  modalRoot = root.ts;
}, 120_000);

it('offers a follow-up once the run succeeded; pressing it plans for an allowed user only', async () => {
  const offer = await until('the follow-up offer in the thread', () =>
    slack.replies(CHANNEL, modalRoot).find((m) => buttonsOf(m).some((b) => b.action_id === 'follow-up.plan')),
  );
  const [button] = buttonsOf(offer);
  expect(button!.text.text).toBe('Leave a note about it');
  const offered = JSON.parse(button!.value) as { runbook: string; values: Record<string, string> };
  expect(offered).toMatchObject({
    runbook: 'leave-note',
    values: { cluster: 'lab', node: node(), note: 'after leave-note' },
  });
  const before = slack.roots(CHANNEL).length;
  // UCAROL approves on lab but may not request: refused as `/kingbase leave-note …` typed by her.
  await press('UCAROL', 'follow-up.plan', button!.value, offer.ts);
  await until('the non-requester refused', () =>
    ephemeralFor('UCAROL', 'You may not request changes to lab'),
  );
  // A forged value is checked by the runbook's input schema, like typed input.
  const forged = { ...offered, values: { ...offered.values, node: '$(touch /tmp/kbops-pwned)' } };
  await press('UBOB', 'follow-up.plan', JSON.stringify(forged), offer.ts);
  await until('the forged value refused', () => ephemeralFor('UBOB', 'node: Invalid string'));
  expect(slack.roots(CHANNEL).length).toBe(before);
  await press('UBOB', 'follow-up.plan', button!.value, offer.ts);
  const next = await until('the new plan, in a new thread', () =>
    slack
      .roots(CHANNEL)
      .slice(before)
      .find((m) => buttonsOf(m).some((b) => b.action_id === 'run.approve')),
  );
  expect(next.text).toContain(`leave a note on ${node()} of lab, requested by <@UBOB>`);
  expect(JSON.stringify(next.blocks)).toContain('needs 1 approval (the requester cannot approve)');
  await until('its full plan in its thread', () =>
    slack.replies(CHANNEL, next.ts).some((m) => JSON.stringify(m.blocks ?? []).includes('write-note')),
  );
  const runId = buttonsOf(next)[0]!.value;
  await press('UBOB', 'run.reject', runId, next.ts); // withdrawn: the lab stays free for the next tests
  await until('the plan withdrawn', async () => (await bot.store.getRun(runId))?.state === 'rejected');
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
    // The offer's number, read from the transcript as a person would; pressed by a requester.
    const offer = /\[(\d+)\] Leave a note about it \(follow-up\.plan /.exec(text)?.[1];
    yield* ['as UBOB', `press ${offer ?? 'none'}`];
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
  const pressed = text.indexOf('* UBOB pressed Leave a note about it (follow-up.plan)');
  expect(pressed).toBeGreaterThan(0);
  expect(text.slice(pressed)).toContain(`UBOB asked to leave a note on ${node()} of lab: preflight running`);
  expect(text.slice(pressed)).toMatch(/\[\d+\] Approve \(run\.approve R[A-Z0-9]{8}\)/);
  expect(existsSync(pl.lab.hosts[1].clusterPath)).toBe(true);
}, 120_000);
