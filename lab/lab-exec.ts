import { execFile, spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';

// Local process helpers for the lab. Always argv, never a shell string.

export interface RunAs {
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
}

export interface RunOptions {
  readonly as?: RunAs;
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  readonly allowFailure?: boolean;
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const baseEnv = (as?: RunAs, extra?: Readonly<Record<string, string>>): NodeJS.ProcessEnv => ({
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
  ...(as && { HOME: as.home }),
  ...extra,
});

export function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      {
        env: baseEnv(options.as, options.env),
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        ...(options.as && { uid: options.as.uid, gid: options.as.gid, cwd: '/' }),
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        if (err && !options.allowFailure) {
          const detail = (stderr || stdout || err.message).trim().split('\n').slice(-5).join('\n');
          reject(new Error(`${file} ${args.join(' ')} failed (exit ${err.code ?? err.signal}): ${detail}`));
          return;
        }
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Start a long-running program detached from us, its output appended to `logFile`. */
export function startDetached(file: string, args: readonly string[], logFile: string, as?: RunAs): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(file, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: baseEnv(as),
      ...(as && { uid: as.uid, gid: as.gid, cwd: '/' }),
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${file}`);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
