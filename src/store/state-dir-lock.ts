import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

// One process at a time in an embedded state directory: two PGlite instances writing the same files
// corrupt them. Node has no flock(), so the lock is a file created atomically (link() of a fully
// written temp file fails if the lock exists) naming its holder. A holder on this host is alive while
// its pid runs with the same start time (so a kill -9 leaves nothing that blocks the next start, and
// a reused pid is not mistaken for it); a holder on another host (a shared volume) is alive while it
// keeps touching the file.

export const LOCK_FILE = 'kbops.lock';

export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly instanceId: string;
  readonly since: string;
  /** The process's start time in clock ticks since boot (Linux), to tell a reused pid apart. */
  readonly startTicks?: string;
  /** Unique per acquisition: what release() and a takeover compare. */
  readonly nonce: string;
}

export interface StateDirLock {
  readonly file: string;
  readonly holder: LockHolder;
  /** Removes the lock file if it is still this holder's; never someone else's. */
  release(): void;
}

export interface LockOptions {
  readonly instanceId?: string;
  /** How often the holder touches the file (default 5 s). */
  readonly heartbeatMs?: number;
  /** A holder on another host is gone when the file is older than this (default 30 s). */
  readonly staleMs?: number;
  /** Told when the file no longer names this holder (someone removed or took it). */
  readonly onLost?: (now: LockHolder | undefined) => void;
}

/**
 * The directory is held by a live process. The message says who and what to do (front ends print
 * only an error's message); `failure` splits it for those that render a hint.
 */
export class StateDirLockedError extends Error {
  readonly failure: { readonly code: 'state-dir-locked'; readonly message: string; readonly hint: string };
  constructor(
    readonly dir: string,
    readonly holder: LockHolder | undefined,
  ) {
    const what = holder
      ? `the state directory ${dir} is in use by kbops pid ${holder.pid} on host ${holder.host} (instance ${holder.instanceId}, since ${holder.since})`
      : `the state directory ${dir} is locked by a lock file kbops cannot read`;
    const hint =
      'stop that process first, or give this one its own KBOPS_STATE_DIR, or let every process share ' +
      `KBOPS_STATE_DATABASE_URL; if that process is certainly gone, delete ${join(dir, LOCK_FILE)}`;
    super(`${what}: ${hint}`);
    this.name = 'StateDirLockedError';
    this.failure = { code: 'state-dir-locked', message: what, hint };
  }
}

/** Nonces held by this process: the same pid with another nonce is a previous incarnation (pid 1 in a container). */
const heldHere = new Set<string>();

export function acquireStateDirLock(dir: string, o: LockOptions = {}): StateDirLock {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, LOCK_FILE);
  const nonce = randomBytes(8).toString('hex');
  const me: LockHolder = {
    pid: process.pid,
    host: hostname(),
    instanceId: o.instanceId ?? `kbops@${hostname()}/${process.pid}`,
    since: new Date().toISOString(),
    ...(startTicksOf(process.pid) !== undefined && { startTicks: startTicksOf(process.pid) }),
    nonce,
  };
  const staleMs = o.staleMs ?? 30_000;
  const tmp = join(dir, `.${LOCK_FILE}.${nonce}`);
  writeFileSync(tmp, JSON.stringify(me), { mode: 0o600, flag: 'wx' });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(tmp, file);
        heldHere.add(nonce);
        return held(file, me, o.heartbeatMs ?? 5_000, o.onLost);
      } catch (err) {
        if (code(err) !== 'EEXIST') throw err;
      }
      const seen = inspect(file);
      if (seen === 'gone') continue;
      if (!isStale(seen.holder, seen.mtimeMs, staleMs)) throw new StateDirLockedError(dir, seen.holder);
      takeOver(file, join(dir, `.${LOCK_FILE}.stale.${nonce}`), seen.holder);
    }
    throw new Error(`could not take the lock ${file}: it keeps changing hands`);
  } finally {
    unlinkQuietly(tmp);
  }
}

function held(
  file: string,
  me: LockHolder,
  heartbeatMs: number,
  onLost: LockOptions['onLost'],
): StateDirLock {
  let lost = false;
  const timer = setInterval(() => {
    try {
      const seen = inspect(file);
      const now = seen === 'gone' ? undefined : seen.holder;
      if (now?.nonce === me.nonce) {
        const t = new Date();
        utimesSync(file, t, t);
      } else if (!lost) {
        lost = true;
        onLost?.(now);
      }
    } catch {
      // A heartbeat that fails now is tried again; a thrown timer would end the process.
    }
  }, heartbeatMs);
  timer.unref();
  let released = false;
  return {
    file,
    holder: me,
    release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      heldHere.delete(me.nonce);
      const seen = inspect(file);
      if (seen !== 'gone' && seen.holder?.nonce === me.nonce) unlinkQuietly(file);
    },
  };
}

/** Moves a stale lock aside; if what moved is not what was judged stale (it changed hands), puts it back. */
function takeOver(file: string, aside: string, judged: LockHolder | undefined): void {
  try {
    renameSync(file, aside);
  } catch (err) {
    if (code(err) === 'ENOENT') return;
    throw err;
  }
  const moved = inspect(aside);
  if (moved !== 'gone' && moved.holder?.nonce !== judged?.nonce) {
    try {
      linkSync(aside, file);
    } catch {
      // A third process has the lock now; it was judged by its own rules.
    }
  }
  unlinkQuietly(aside);
}

function isStale(h: LockHolder | undefined, mtimeMs: number, staleMs: number): boolean {
  // Unreadable (not ours, or hand-edited): only its silence says it is gone.
  if (!h || h.host !== hostname()) return Date.now() - mtimeMs > staleMs;
  if (h.pid === process.pid) return !heldHere.has(h.nonce);
  if (!isAlive(h.pid)) return true;
  const ticks = startTicksOf(h.pid);
  return h.startTicks !== undefined && ticks !== undefined && ticks !== h.startTicks;
}

function inspect(file: string): 'gone' | { holder: LockHolder | undefined; mtimeMs: number } {
  try {
    const mtimeMs = statSync(file).mtimeMs;
    return { holder: parseHolder(readFileSync(file, 'utf8')), mtimeMs };
  } catch (err) {
    if (code(err) === 'ENOENT') return 'gone';
    throw err;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    const ok =
      typeof h.pid === 'number' &&
      typeof h.host === 'string' &&
      typeof h.instanceId === 'string' &&
      typeof h.since === 'string' &&
      typeof h.nonce === 'string';
    return ok ? (h as LockHolder) : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return code(err) === 'EPERM'; // it exists, it is just not ours to signal
  }
}

/** Field 22 of /proc/<pid>/stat (start time), or undefined where there is no /proc. */
export function startTicksOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .at(19);
  } catch {
    return undefined;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

const code = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;
