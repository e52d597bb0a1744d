import { createReadStream } from 'node:fs';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline';
import type { Inventory } from '../config/normalise-inventory';
import type { Env } from '../config/resolve-secret';
import { routeKingbase, type ChatCommand, type CommandContext } from '../chatops/chatops';
import { handleFollowUp } from '../chatops/follow-ups';
import { handleRunAction, RUN_ACTIONS, type RunAction } from '../chatops/run-actions';
import { FOLLOW_UP_ACTION } from '../render/follow-up-message';
import { planHashFromBlockId } from '../render/run-buttons';
import type { AnyRunbook } from '../runbooks/runbook';
import { openStore, type StoreOptions } from '../app/open-store';
import { buttonLine, ConsoleSurface, type TextSink } from './console-surface';
import { composeRuns } from '../app/compose-runs';

// The chat-ops bot without Slack: the same `/kingbase` commands, buttons and run thread, drawn as
// text on a terminal (or a transcript). Lines: `/kingbase …`, `as USER`, `press N`, `wait`, `quit`.

export const CONSOLE_CHANNEL = 'console';

export interface ConsoleOptions {
  readonly inventory: Inventory;
  readonly env: Env;
  /** Lines typed, or read from a script. */
  readonly input: AsyncIterable<string>;
  readonly out: TextSink;
  /** The `/kingbase` commands (commands/kingbase-commands.ts, or a test's). */
  readonly commands: readonly ChatCommand[];
  /** The runbooks offered (default: all of src/runbooks/index.ts). */
  readonly runbooks?: readonly AnyRunbook[];
  /** The run store: the shared one when KBOPS_STATE_DATABASE_URL is set, as the bot's. */
  readonly store?: StoreOptions;
  /** Print a prompt before each line (a terminal); otherwise each line is echoed after one. */
  readonly interactive?: boolean;
  /** Who types first (default: UALICE). */
  readonly user?: string;
  /** How long `wait` waits at most (default 30 minutes). */
  readonly waitMs?: number;
}

const HELP = `console commands:
  /kingbase <sub-command> …   as the current user, in channel ${CONSOLE_CHANNEL}
  as <USER>                   switch user (e.g. as UCAROL)
  press <n> | press <label>   press button [n] (or the newest one labelled so) as the current user
  buttons                     the buttons shown now
  wait                        until no run is approved, running or rolling back
  help | quit`;

export async function runConsole(o: ConsoleOptions): Promise<void> {
  const { inventory, out } = o;
  const surface = new ConsoleSurface(out);
  const store = await openStore(o.store ?? {}, o.env);
  const note = (text: string) => surface.write(`${text}\n`);
  const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
  const { deps, engine } = composeRuns({
    inventory,
    env: o.env,
    store,
    groupsOf: () => [],
    surface: () => surface,
    owner: `console@${hostname()}`,
    onError: (what, err) => note(`! ${what}: ${errorText(err)}`),
    ...(o.runbooks && { runbooks: o.runbooks }),
  });
  for (const r of await engine.start())
    note(`! run ${r.id} on ${r.cluster} was interrupted by a restart: resume or roll back`);

  let user = o.user ?? 'UALICE';
  // Anyone can type `as UCAROL`: what changes a cluster is allowed only where unattended runs are.
  const gated = { ...deps, unverifiedUsers: true };
  const ctx = (): CommandContext => ({ deps: gated, actor: { user, channel: CONSOLE_CHANNEL }, surface });

  const press = async (arg: string) => {
    const n = /^\d+$/.test(arg) ? Number(arg) : surface.buttonLabelled(arg);
    const b = n === undefined ? undefined : surface.button(n);
    if (!b) return note(`No button [${arg}] is shown now (type \`buttons\` to list them).`);
    if (b.actionId === FOLLOW_UP_ACTION) {
      note(`* ${user} pressed ${b.label} (${b.actionId})`);
      return handleFollowUp(b.value, ctx());
    }
    if (!(RUN_ACTIONS as readonly string[]).includes(b.actionId))
      return note(`Button [${arg}] (${b.actionId}) does nothing here.`);
    note(`* ${user} pressed ${b.label} (${b.actionId} ${b.value})`);
    await handleRunAction(
      b.actionId as RunAction,
      b.value,
      ctx(),
      planHashFromBlockId(b.blockId) ?? undefined,
    );
  };

  const waitIdle = async () => {
    const deadline = Date.now() + (o.waitMs ?? 30 * 60_000);
    for (;;) {
      await engine.idle();
      const active = await store.listRuns({ states: ['approved', 'running', 'rolling_back'] });
      if (active.length === 0) break;
      if (Date.now() > deadline)
        return note(`wait: gave up; still active: ${active.map((r) => r.id).join(' ')}`);
      await deps.clock.sleep(250);
    }
    await deps.clock.sleep(200); // the thread's last replies are queued behind the run's end
    const latest = (await store.listRuns({ limit: 1 }))[0];
    note(
      `wait: no run is active${latest ? `; latest run ${latest.id} on ${latest.cluster}: ${latest.state}` : ''}`,
    );
  };

  /** One line; false to stop. */
  const handle = async (line: string): Promise<boolean> => {
    const [word = '', ...rest] = line.split(/\s+/);
    const arg = rest.join(' ');
    if (word === '/kingbase') await routeKingbase(arg, ctx(), o.commands);
    else if (word === 'as') {
      if (/^[A-Za-z0-9._-]{1,64}$/.test(arg)) user = arg;
      else note('Usage: as <USER> (a user id such as UCAROL)');
    } else if (word === 'press') await press(arg);
    else if (word === 'buttons') {
      const shown = [...surface.shown()].map(([n, b]) => buttonLine(n, b));
      note(shown.length > 0 ? shown.join('\n') : 'No buttons are shown.');
    } else if (word === 'wait') await waitIdle();
    else if (word === 'quit' || word === 'exit') return false;
    else if (word === 'help') note(HELP);
    else note(`Unknown console command \`${word.slice(0, 40)}\`. ${HELP}`);
    return true;
  };

  try {
    if (o.interactive) surface.write(`kbops console (type help)\n${user}> `);
    for await (const raw of o.input) {
      const line = raw.trim();
      if (!o.interactive && line && !line.startsWith('#')) note(`${user}> ${line}`);
      const go =
        !line || line.startsWith('#')
          ? true
          : await handle(line).then(
              (r) => r,
              (err: unknown) => (note(`! ${errorText(err)}`), true),
            );
      if (!go) break;
      if (o.interactive) surface.write(`${user}> `);
    }
  } finally {
    await engine.stop();
    await store.close();
  }
}

/** `kbops console [--script FILE]`: a terminal session, or the lines of FILE. */
export async function consoleCommand(
  argv: readonly string[],
  ctx: {
    inventory: Inventory;
    env: Env;
    store: StoreOptions;
    commands: readonly ChatCommand[];
    runbooks: readonly AnyRunbook[];
  },
): Promise<number> {
  const script = argv[0] === '--script' ? argv[1] : undefined;
  if (argv.length > 0 && (script === undefined || argv.length > 2)) {
    process.stderr.write('usage: kbops console [--script FILE]\n');
    return 64;
  }
  await runConsole({
    inventory: ctx.inventory,
    env: ctx.env,
    input: linesOf(script !== undefined ? createReadStream(script) : process.stdin),
    out: process.stdout,
    store: ctx.store,
    commands: ctx.commands,
    runbooks: ctx.runbooks,
    interactive: script === undefined && process.stdin.isTTY === true,
  });
  return 0;
}

/** Lines of a stream, read only once asked for (readline drops lines emitted before iteration starts). */
async function* linesOf(stream: NodeJS.ReadableStream): AsyncGenerator<string> {
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
  }
}
