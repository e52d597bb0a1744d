import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isAlive } from '../store/state-dir-lock';

// The owner of the runs a process executes: `<KBOPS_INSTANCE_ID>@<host>/<pid>/<random>` (the
// instance id from readEnvOptions, `kbops` unless set).
// Unique per process, so two replicas on one host never take each other for themselves restarted;
// the stable prefix and the host let a restarted process find its own runs from before.

const ID = /^(.+)@([^/]+)\/(\d+)\/([0-9a-f]+)$/;

/** Owner ids minted in this process: its engines are alive whatever their pid says. */
const mintedHere = new Set<string>();

export interface InstanceId {
  readonly prefix: string;
  readonly host: string;
  readonly pid: number;
  readonly nonce: string;
}

/** A new owner id for this process; `configured` is the parsed options' KBOPS_INSTANCE_ID. */
export function newInstanceId(configured: string, host = hostname()): string {
  const id = `${configured}@${host}/${process.pid}/${randomBytes(4).toString('hex')}`;
  mintedHere.add(id);
  return id;
}

export function parseInstanceId(id: string): InstanceId | undefined {
  const m = ID.exec(id);
  return m ? { prefix: m[1]!, host: m[2]!, pid: Number(m[3]), nonce: m[4]! } : undefined;
}

/**
 * Whether `owner` is this instance (same prefix, same host) in a process that is certainly gone:
 * its runs are this instance's own from before a restart. Anything else (another instance, another
 * host, a pid that runs) is left to its lease.
 */
export function isDeadPredecessor(owner: string, me: string): boolean {
  const o = parseInstanceId(owner);
  const m = parseInstanceId(me);
  if (!o || !m || owner === me || o.prefix !== m.prefix || o.host !== m.host) return false;
  if (mintedHere.has(owner)) return false;
  // This pid, not minted here: this process before a restart (pid 1 again in a container).
  if (o.pid === process.pid) return true;
  return !isAlive(o.pid);
}
