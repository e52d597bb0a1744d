import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { writeArtifact } from '../../support/artifacts';

// One kbops bot as the image runs it: commands/main.ts (configuration from the environment only) in
// a child process of its own, so a test can run replicas side by side and SIGKILL one by PID. tsx is
// loaded into that very process (not its CLI, which would put a parent in between): the signal
// reaches the bot itself. Its pino lines are kept, parsed, and written as an artifact at exit (the
// suite's secret scan reads them).

export interface BotProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Every log line, parsed (a line that is not JSON is kept as `{ msg: line }`). */
  readonly lines: readonly LogLine[];
  /** Resolves once the bot logged `kbops is listening` (its scheduler is running by then). */
  readonly up: Promise<{ owner: string; port: number; at: number }>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The last lines, for a failure message. */
  transcript(): string;
}

export interface LogLine {
  readonly msg?: string;
  readonly level?: number;
  readonly [k: string]: unknown;
}

const ROOT = join(__dirname, '../../..');
const live = new Set<ChildProcess>();

/** Variables of the test's own environment that must not leak into a bot's configuration. */
const OWN = /^(KBOPS_(?!TEST_ARTIFACTS)|SLACK_|PORT$|LOG_LEVEL$)/;

export function spawnBot(name: string, env: Readonly<Record<string, string>>): BotProcess {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !OWN.test(k)));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'commands/main.ts')], {
    cwd: ROOT,
    env: { ...base, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`bot ${name} did not start`);
  live.add(child);
  const lines: LogLine[] = [];
  const raw: string[] = [];
  let markUp: (v: { owner: string; port: number; at: number }) => void = () => undefined;
  let failUp: (e: Error) => void = () => undefined;
  const up = new Promise<{ owner: string; port: number; at: number }>((resolve, reject) => {
    markUp = resolve;
    failUp = reject;
  });
  const take = (stream: 'out' | 'err') => {
    let rest = '';
    return (b: Buffer) => {
      const parts = (rest + b.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts.filter(Boolean)) {
        raw.push(stream === 'err' ? `stderr: ${p}` : p);
        let line: LogLine;
        try {
          line = JSON.parse(p) as LogLine;
        } catch {
          line = { msg: p, stream };
        }
        lines.push(line);
        if (line.msg === 'kbops is listening')
          markUp({ owner: String(line.owner), port: Number(line.port), at: Date.now() });
      }
    };
  };
  child.stdout!.on('data', take('out'));
  child.stderr!.on('data', take('err'));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      writeArtifact(`bot-${name}.log`, raw.join('\n'));
      failUp(new Error(`bot ${name} exited (${signal ?? code}) before it was listening\n${tail()}`));
      resolve({ code, signal });
    }),
  );
  up.catch(() => undefined); // observed by whoever awaits it; never an unhandled rejection
  const tail = () =>
    `--- bot ${name} (pid ${child.pid}) ---\n${raw
      .slice(-30)
      .map((l) => l.slice(0, 400))
      .join('\n')}`;
  return { name, child, pid: child.pid, lines, up, exited, transcript: tail };
}

/** Waits at most `ms` for the bot to end; SIGKILLs it (and says so) when it does not. */
export async function waitBotExit(
  bot: BotProcess,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const r = await Promise.race([bot.exited, late]);
  clearTimeout(timer);
  if (r !== 'late') return r;
  process.kill(bot.pid, 'SIGKILL');
  await bot.exited;
  throw new Error(`bot ${bot.name} did not exit within ${ms} ms\n${bot.transcript()}`);
}

/** SIGKILLs every bot this process started that still runs, by PID (afterAll). */
export async function killAllBots(): Promise<void> {
  const waits = [...live].map((c) => new Promise((resolve) => c.once('exit', resolve)));
  for (const c of live) if (c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
  await Promise.all(waits);
}
