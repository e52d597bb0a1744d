import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../../../lab/lab-exec';

// The chaos files share lab base 160 (the kill test borrows it as a second lane when it is free,
// the outage test needs it): a lock file per base, held by a process id, so two test files in
// parallel jest workers never bring up labs on the same addresses. A dead holder's lock is taken.

const path = (base: number) => `/var/tmp/kbops-chaos-lab-${base}.lock`;

function tryTake(base: number): boolean {
  try {
    writeFileSync(path(base), String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    let holder: number;
    try {
      holder = Number(readFileSync(path(base), 'utf8').trim() || 0);
    } catch {
      return tryTake(base); // released meanwhile
    }
    if (holder === process.pid) return true;
    if (holder > 0 && isAlive(holder)) return false;
    try {
      unlinkSync(path(base)); // a dead holder's (or half-written) lock
    } catch {
      // another process removed it first
    }
    return tryTake(base);
  }
}

export type Release = () => void;

const releaser =
  (base: number): Release =>
  () => {
    try {
      if (readFileSync(path(base), 'utf8').trim() === String(process.pid)) unlinkSync(path(base));
    } catch {
      // already gone
    }
  };

/** The pid in base `base`'s lock file, if any (to say why a lane was not used). */
export function labBaseHolder(base: number): string | undefined {
  try {
    return readFileSync(path(base), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Takes base `base` if nobody holds it; undefined otherwise. */
export const tryLockLabBase = (base: number): Release | undefined =>
  tryTake(base) ? releaser(base) : undefined;

/** Takes base `base`, waiting at most `ms` for its holder to let go. */
export async function lockLabBase(base: number, ms: number): Promise<Release> {
  const deadline = Date.now() + ms;
  while (!tryTake(base)) {
    if (Date.now() > deadline) {
      throw new Error(
        `lab base ${base} still held by pid ${readFileSync(path(base), 'utf8')} after ${ms} ms`,
      );
    }
    await sleep(1000);
  }
  return releaser(base);
}
