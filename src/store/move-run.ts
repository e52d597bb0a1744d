import { mutatedAnything } from '../core/run';
import { holdsLock, isActive, transition, type RunEventType } from '../core/run-state';
import type { ApplyResult, RunPatch } from '../ports/run-store';
import type { Queryable } from './db';
import type { Journal } from './journaled-transaction';
import { jsonParam, one, toRun, type LockRow, type RunRow } from './run-row';

export interface Move {
  readonly actor: string;
  readonly reason?: string;
  readonly patch?: RunPatch;
  /** A worker claiming the run: becomes its owner with a fresh lease. */
  readonly claim?: { readonly owner: string; readonly leaseMs: number };
}

export const ACTIVE_SQL = `state IN ('running', 'rolling_back')`;
export const leaseSql = (param: string): string => `now() + ${param}::float8 * interval '1 millisecond'`;

export const lockRun = async (tx: Queryable, id: string): Promise<RunRow | undefined> =>
  (await tx.query<RunRow>('SELECT * FROM kbops_runs WHERE id = $1 FOR UPDATE', [id])).rows[0];

/**
 * One state change through core/run-state's table, on a run row already locked FOR UPDATE: updates
 * the row, journals it, and lets go of the cluster lock when the new state no longer holds it.
 */
export async function moveRun(
  tx: Queryable,
  journal: Journal,
  row: RunRow,
  event: RunEventType,
  m: Move,
): Promise<ApplyResult> {
  const t = transition(row.state, event);
  if (!t.ok) return t;
  const to = t.state;
  const nextStep = m.patch?.nextStep ?? row.next_step;
  const undoNext = m.patch && 'undoNext' in m.patch ? (m.patch.undoNext ?? null) : row.undo_next;
  const holds = holdsLock(to, mutatedAnything(row.plan, nextStep, undoNext));
  const lockEvent = (action: 'taken' | 'released') =>
    journal({
      runId: row.id,
      cluster: row.cluster,
      actor: m.actor,
      event: { type: 'lock', action, heldByRun: row.id },
    });
  // A run about to execute must own its cluster's lock: after an admin unlock it takes it back,
  // unless another run has it meanwhile.
  if (holds && (to === 'approved' || isActive(to))) {
    const held = await tx.query<LockRow>('SELECT * FROM kbops_locks WHERE cluster = $1 FOR UPDATE', [
      row.cluster,
    ]);
    const lock = held.rows[0];
    if (lock && lock.run_id !== row.id) {
      return {
        ok: false,
        reason: `cluster ${row.cluster} is locked by run ${lock.run_id} of ${lock.holder}`,
      };
    }
    if (!lock) {
      const retaken = await tx.query(
        `INSERT INTO kbops_locks (cluster, run_id, holder) VALUES ($1, $2, $3)
         ON CONFLICT (cluster) DO NOTHING RETURNING cluster`,
        [row.cluster, row.id, row.requester],
      );
      if (retaken.rows.length === 0)
        return { ok: false, reason: `cluster ${row.cluster} was locked meanwhile` };
      lockEvent('taken');
    }
  }
  // Owner, lease and a cancel request belong to one execution: they end when the run stops being active.
  const active = isActive(to);
  const updated = await tx.query<RunRow>(
    `UPDATE kbops_runs SET state = $2, next_step = $3,
       undo_next = CASE WHEN $4 THEN $5::integer ELSE undo_next END,
       meta = meta || $6::text::jsonb,
       owner = CASE WHEN NOT $7 THEN NULL WHEN $8::text IS NULL THEN owner ELSE $8 END,
       lease_until = CASE WHEN NOT $7 THEN NULL WHEN $9::float8 IS NULL THEN lease_until ELSE ${leaseSql('$9')} END,
       cancel_requested = cancel_requested AND $7,
       updated_at = now()
     WHERE id = $1 RETURNING *`,
    [
      row.id,
      to,
      nextStep,
      m.patch?.undoNext !== undefined,
      m.patch?.undoNext ?? null,
      jsonParam(m.patch?.meta ?? {}),
      active,
      m.claim?.owner ?? null,
      m.claim?.leaseMs ?? null,
    ],
  );
  journal({
    runId: row.id,
    cluster: row.cluster,
    actor: m.actor,
    event: { type: 'state', from: row.state, to, event, ...(m.reason !== undefined && { reason: m.reason }) },
  });
  if (!holds) {
    const released = await tx.query(
      'DELETE FROM kbops_locks WHERE cluster = $1 AND run_id = $2 RETURNING cluster',
      [row.cluster, row.id],
    );
    if (released.rows.length > 0) lockEvent('released');
  }
  return { ok: true, run: toRun(one(updated.rows)) };
}
