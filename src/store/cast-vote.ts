import type { ApprovalRecord, CastVoteResult, VoteVerdict } from '../ports/run-store';
import type { Run } from '../core/run';
import type { Queryable } from './db';
import type { Journal } from './journaled-transaction';
import { lockRun, moveRun } from './move-run';
import { toApproval, toRun, type ApprovalRow } from './run-row';

/**
 * RunStore.castVote inside one transaction. The run row is locked first, so votes on one run are
 * serialised: each decides on every vote committed before it, and the one that completes the
 * approvals moves the run (two votes at once can no longer both see "1 of 2" and leave it waiting).
 */
export async function castVote(
  tx: Queryable,
  journal: Journal,
  runId: string,
  decide: (run: Run, existing: readonly ApprovalRecord[]) => VoteVerdict,
): Promise<CastVoteResult> {
  const row = await lockRun(tx, runId);
  if (!row) return { ok: false, failure: { code: 'no-such-run', message: `there is no run ${runId}` } };
  const stored = await tx.query<ApprovalRow>('SELECT * FROM kbops_approvals WHERE run_id = $1 ORDER BY id', [
    runId,
  ]);
  const verdict = decide(toRun(row), stored.rows.map(toApproval));
  if (!verdict.ok) return verdict;
  const { userId, planHash, decision } = verdict.record;
  const inserted = await tx.query(
    `INSERT INTO kbops_approvals (run_id, user_id, plan_hash, decision) VALUES ($1, $2, $3, $4)
     ON CONFLICT (run_id, user_id, plan_hash) DO NOTHING RETURNING id`,
    [runId, userId, planHash, decision],
  );
  if (inserted.rows.length === 0) {
    return {
      ok: false,
      failure: { code: 'already-approved', message: 'your vote for this plan is already recorded' },
    };
  }
  journal({ runId, cluster: row.cluster, actor: userId, event: { type: 'approval', decision, planHash } });
  if (!verdict.move) return { ok: true, run: toRun(row) };
  const { event, reason, patch } = verdict.move;
  // Refused only when another run took the cluster after an admin unlock: the vote still counts.
  const moved = await moveRun(tx, journal, row, event, { actor: userId, reason, ...(patch && { patch }) });
  return { ok: true, run: moved.ok ? moved.run : toRun(row) };
}
