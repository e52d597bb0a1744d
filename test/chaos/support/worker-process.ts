import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

// Starts test/chaos/support/chaos-worker.ts in a child process and keeps what it says, so a test
// can SIGKILL it, wait for it, and show its output when something goes wrong.

export interface WorkerOptions {
  readonly storeUrl: string;
  readonly inventoryPath: string;
  readonly runId: string;
  readonly owner: string;
  readonly leaseMs: number;
  /** KBOPS_TEST_KILL_AT: `started:<index>` or `progress:<stepId>` (see chaos-worker.ts). */
  readonly killAt?: string;
  /** Called with each line the worker prints (JSON events, or stderr text). */
  readonly onLine?: (line: string) => void;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly owner: string;
  readonly lines: string[];
  /** Resolves when the process has ended, however. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Its output, for a failure message. */
  transcript(): string;
}

const live = new Set<ChildProcess>();

export function spawnWorker(o: WorkerOptions): WorkerProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  delete env.KBOPS_TEST_KILL_AT;
  if (o.killAt !== undefined) env.KBOPS_TEST_KILL_AT = o.killAt;
  const child = spawn(
    process.execPath,
    [
      // tsx as a loader in this very process (not its CLI, which would put a parent in between):
      // a SIGKILL reaches the worker itself, and its exit shows the signal.
      '--import',
      'tsx',
      join(__dirname, 'chaos-worker.ts'),
      o.storeUrl,
      o.inventoryPath,
      o.runId,
      o.owner,
      String(o.leaseMs),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: join(__dirname, '../../..') },
  );
  live.add(child);
  const lines: string[] = [];
  const take = (prefix: string) => {
    let rest = '';
    return (b: Buffer) => {
      const parts = (rest + b.toString()).split('\n');
      rest = parts.pop() ?? '';
      for (const p of parts.filter(Boolean)) {
        lines.push(prefix + p);
        o.onLine?.(prefix + p);
      }
    };
  };
  child.stdout.on('data', take(''));
  child.stderr.on('data', take('stderr: '));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  return {
    child,
    owner: o.owner,
    lines,
    exited,
    transcript: () =>
      `--- worker ${o.owner} (pid ${child.pid}) ---\n${lines
        .slice(-40)
        .map((l) => l.slice(0, 400))
        .join('\n')}`,
  };
}

/** Waits for the worker to end, at most `ms`; SIGKILLs it (and says so) when it does not. */
export async function waitExit(
  w: WorkerProcess,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
  const r = await Promise.race([w.exited, late]);
  clearTimeout(timer);
  if (r !== 'late') return r;
  w.child.kill('SIGKILL');
  await w.exited;
  throw new Error(`worker ${w.owner} did not exit within ${ms} ms\n${w.transcript()}`);
}

/** SIGKILLs every worker this process started that still runs (afterAll). */
export async function killAllWorkers(): Promise<void> {
  const waits = [...live].map((c) => new Promise((resolve) => c.once('exit', resolve)));
  for (const c of live) c.kill('SIGKILL');
  await Promise.all(waits);
}
