import type { ForceReleaseResult } from '../ports/run-store';
import type { Queryable } from './db';
import type { Journal } from './journaled-transaction';
import { lockRun } from './move-run';
import { iso, toLock, type LockRow, type RunRow } from './run-row';

/**
 * RunStore.forceReleaseLock inside one transaction: refused while the lock's run is executing with a
 * live lease. Rows are locked run first, then lock, the order moveRun and claimNext use, so this
 * cannot deadlock with them; a worker's renewLease waits for this transaction (it updates the row).
 */
export async function forceReleaseLock(
  tx: Queryable,
  journal: Journal,
  cluster: string,
  actor: string,
  reason: string,
): Promise<ForceReleaseResult> {
  const lockOf = async (forUpdate: boolean) =>
    (
      await tx.query<LockRow>(
        `SELECT * FROM kbops_locks WHERE cluster = $1${forUpdate ? ' FOR UPDATE' : ''}`,
        [cluster],
      )
    ).rows[0];
  for (let attempt = 0; attempt < 3; attempt++) {
    const seen = await lockOf(false);
    if (!seen) return { ok: false, reason: 'not-locked' };
    const row = await lockRun(tx, seen.run_id);
    const lock = await lockOf(true);
    if (!lock) return { ok: false, reason: 'not-locked' };
    if (lock.run_id !== seen.run_id) continue; // it changed hands in between: look again
    const live = await liveLease(tx, row);
    if (row && live) {
      return {
        ok: false,
        reason: 'executing',
        lock: toLock(lock),
        run: { id: row.id, state: row.state, owner: live.owner, leaseUntil: live.leaseUntil },
      };
    }
    await tx.query('DELETE FROM kbops_locks WHERE cluster = $1 AND run_id = $2', [cluster, lock.run_id]);
    journal({
      runId: lock.run_id,
      cluster,
      actor,
      event: { type: 'lock', action: 'force-released', heldByRun: lock.run_id, reason },
    });
    return { ok: true, released: toLock(lock) };
  }
  throw new Error(`the lock of cluster ${cluster} keeps changing hands`);
}

/** Whether a worker is executing the run now, by the database clock (the one leases are set by). */
async function liveLease(
  tx: Queryable,
  row: RunRow | undefined,
): Promise<{ owner: string; leaseUntil: string } | undefined> {
  if (!row || row.owner === null || row.lease_until === null) return undefined;
  if (row.state !== 'running' && row.state !== 'rolling_back') return undefined;
  const r = await tx.query<{ live: boolean }>('SELECT $1::timestamptz > now() AS live', [
    iso(row.lease_until),
  ]);
  return r.rows[0]?.live ? { owner: row.owner, leaseUntil: iso(row.lease_until) } : undefined;
}
