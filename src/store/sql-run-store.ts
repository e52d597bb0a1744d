import type { JournalEntry, Run, StoredEvent } from '../core/run';
import { mutatedAnything } from '../core/run';
import type { RunEventType, RunState } from '../core/run-state';
import type {
  ApplyOptions,
  ApplyResult,
  ApprovalRecord,
  CastVoteResult,
  ForceReleaseResult,
  LockInfo,
  NewRun,
  RunPatch,
  RunStore,
  VoteVerdict,
} from '../ports/run-store';
import { castVote } from './cast-vote';
import { forceReleaseLock } from './force-release-lock';
import type { Db, Queryable } from './db';
import { journaledTransaction, writeJournal, type Journal } from './journaled-transaction';
import { ACTIVE_SQL, leaseSql, lockRun, moveRun } from './move-run';
import {
  jsonParam,
  one,
  toApproval,
  toLock,
  toRun,
  toStoredEvent,
  type ApprovalRow,
  type EventRow,
  type LockRow,
  type RunRow,
} from './run-row';

const SYSTEM = 'kbops';

/**
 * RunStore over PostgreSQL (node-postgres or PGlite). Each method is one transaction; a state change
 * locks the run row (FOR UPDATE) so two replicas cannot move the same run at once. Times come from
 * the database clock, so replicas agree on leases and deadlines.
 */
export class SqlRunStore implements RunStore {
  constructor(private readonly db: Db) {}

  createRun(run: NewRun): Promise<{ ok: true; run: Run } | { ok: false; lockedBy: LockInfo }> {
    const { plan } = run;
    return this.tx(async (tx, journal) => {
      const lockEvent = (action: 'taken' | 'refused', heldByRun: string): void =>
        journal({
          runId: run.id,
          cluster: plan.cluster,
          actor: plan.requester,
          event: { type: 'lock', action, heldByRun },
        });
      // The lock row goes first (its foreign key is deferred): ON CONFLICT settles a race between two
      // createRuns on one cluster without an error. Retried in case the holder let go in between.
      for (let attempt = 0; ; attempt++) {
        const taken = await tx.query(
          `INSERT INTO kbops_locks (cluster, run_id, holder) VALUES ($1, $2, $3)
           ON CONFLICT (cluster) DO NOTHING RETURNING cluster`,
          [plan.cluster, run.id, plan.requester],
        );
        if (taken.rows.length > 0) break;
        const held = await tx.query<LockRow>('SELECT * FROM kbops_locks WHERE cluster = $1', [plan.cluster]);
        const lock = held.rows[0];
        if (lock) {
          // Journaled under the refused run's id (never stored), so its history says why.
          lockEvent('refused', lock.run_id);
          return { ok: false as const, lockedBy: toLock(lock) };
        }
        if (attempt >= 3) throw new Error(`the lock of cluster ${plan.cluster} keeps changing hands`);
      }
      const inserted = await tx.query<RunRow>(
        `INSERT INTO kbops_runs (id, cluster, runbook, plan, plan_hash, requester, state, expires_at, meta)
         VALUES ($1, $2, $3, $4::text::jsonb, $5, $6, 'awaiting_approval', $7::timestamptz, $8::text::jsonb)
         RETURNING *`,
        [
          run.id,
          plan.cluster,
          plan.runbook.id,
          jsonParam(plan),
          plan.hash,
          plan.requester,
          run.expiresAt,
          jsonParam(run.meta ?? {}),
        ],
      );
      journal({ runId: run.id, cluster: plan.cluster, actor: plan.requester, event: { type: 'created' } });
      lockEvent('taken', run.id);
      return { ok: true as const, run: toRun(one(inserted.rows)) };
    });
  }

  async getRun(id: string): Promise<Run | undefined> {
    const r = await this.db.query<RunRow>('SELECT * FROM kbops_runs WHERE id = $1', [id]);
    return r.rows[0] && toRun(r.rows[0]);
  }

  async listRuns(
    filter: { cluster?: string; states?: readonly RunState[]; limit?: number } = {},
  ): Promise<Run[]> {
    const r = await this.db.query<RunRow>(
      `SELECT * FROM kbops_runs
       WHERE ($1::text IS NULL OR cluster = $1) AND ($2::text[] IS NULL OR state = ANY ($2::text[]))
       ORDER BY created_at DESC, id DESC LIMIT $3`,
      [filter.cluster ?? null, filter.states ? [...filter.states] : null, filter.limit ?? 100],
    );
    return r.rows.map(toRun);
  }

  applyEvent(id: string, event: RunEventType, options: ApplyOptions): Promise<ApplyResult> {
    return this.tx(async (tx, journal) => {
      const row = await lockRun(tx, id);
      if (!row) return { ok: false, reason: `there is no run ${id}` };
      if (options.expect && !options.expect.includes(row.state)) {
        return { ok: false, reason: `run ${id} is ${row.state}, not ${options.expect.join(' or ')}` };
      }
      if (options.owner !== undefined && row.owner !== options.owner) {
        return {
          ok: false,
          reason: `run ${id} is executed by ${row.owner ?? 'nobody'}, not ${options.owner}`,
        };
      }
      return moveRun(tx, journal, row, event, options);
    });
  }

  async updateRun(id: string, owner: string, patch: RunPatch): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE kbops_runs SET next_step = COALESCE($3, next_step),
         undo_next = CASE WHEN $4 THEN $5::integer ELSE undo_next END,
         meta = meta || $6::text::jsonb, updated_at = now()
       WHERE id = $1 AND owner = $2 AND ${ACTIVE_SQL} RETURNING id`,
      [
        id,
        owner,
        patch.nextStep ?? null,
        patch.undoNext !== undefined,
        patch.undoNext ?? null,
        jsonParam(patch.meta ?? {}),
      ],
    );
    return r.rows.length > 0;
  }

  append(entry: JournalEntry): Promise<StoredEvent> {
    return this.db.transaction(async (tx) => one(await writeJournal(tx, [entry])));
  }

  async events(filter: {
    runId?: string;
    cluster?: string;
    afterId?: number;
    limit?: number;
  }): Promise<StoredEvent[]> {
    const r = await this.db.query<EventRow>(
      `SELECT * FROM kbops_events
       WHERE ($1::text IS NULL OR run_id = $1) AND ($2::text IS NULL OR cluster = $2) AND id > $3
       ORDER BY id LIMIT $4`,
      [filter.runId ?? null, filter.cluster ?? null, filter.afterId ?? 0, filter.limit ?? null],
    );
    return r.rows.map(toStoredEvent);
  }

  castVote(
    runId: string,
    decide: (run: Run, existing: readonly ApprovalRecord[]) => VoteVerdict,
  ): Promise<CastVoteResult> {
    return this.tx((tx, journal) => castVote(tx, journal, runId, decide));
  }

  async recordApproval(a: Omit<ApprovalRecord, 'at'>): Promise<'recorded' | 'duplicate'> {
    const r = await this.db.query(
      `INSERT INTO kbops_approvals (run_id, user_id, plan_hash, decision) VALUES ($1, $2, $3, $4)
       ON CONFLICT (run_id, user_id, plan_hash) DO NOTHING RETURNING id`,
      [a.runId, a.userId, a.planHash, a.decision],
    );
    return r.rows.length > 0 ? 'recorded' : 'duplicate';
  }

  async approvals(runId: string): Promise<ApprovalRecord[]> {
    const r = await this.db.query<ApprovalRow>(
      'SELECT * FROM kbops_approvals WHERE run_id = $1 ORDER BY id',
      [runId],
    );
    return r.rows.map(toApproval);
  }

  claimNext(owner: string, leaseMs: number): Promise<Run | undefined> {
    return this.tx(async (tx, journal) => {
      // Runs whose cluster lock another run holds (after an admin unlock) are left for a human.
      const r = await tx.query<RunRow>(
        `SELECT * FROM kbops_runs r
         WHERE (state = 'approved' OR (state = 'rolling_back' AND owner IS NULL))
           AND NOT EXISTS (SELECT 1 FROM kbops_locks l WHERE l.cluster = r.cluster AND l.run_id <> r.id)
         ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
      );
      const row = r.rows[0];
      if (!row) return undefined;
      if (row.state === 'approved') {
        const moved = await moveRun(tx, journal, row, 'start', { actor: owner, claim: { owner, leaseMs } });
        return moved.ok ? moved.run : undefined;
      }
      const taken = await tx.query<RunRow>(
        `UPDATE kbops_runs SET owner = $2, lease_until = ${leaseSql('$3')}, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [row.id, owner, leaseMs],
      );
      return toRun(one(taken.rows));
    });
  }

  async renewLease(id: string, owner: string, leaseMs: number): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE kbops_runs SET lease_until = ${leaseSql('$3')} WHERE id = $1 AND owner = $2 AND ${ACTIVE_SQL} RETURNING id`,
      [id, owner, leaseMs],
    );
    return r.rows.length > 0;
  }

  interruptOrphans(restartedOwner?: string): Promise<Run[]> {
    return this.tx(async (tx, journal) => {
      // A running run with no owner cannot happen through claimNext; if it does, nobody executes it.
      const r = await tx.query<RunRow>(
        `SELECT * FROM kbops_runs WHERE ${ACTIVE_SQL}
           AND ((owner IS NOT NULL AND lease_until < now()) OR owner = $1 OR (state = 'running' AND owner IS NULL))
         ORDER BY created_at, id FOR UPDATE SKIP LOCKED`,
        [restartedOwner ?? null],
      );
      const out: Run[] = [];
      for (const row of r.rows) {
        const reason =
          row.owner === null
            ? 'nobody was executing it'
            : row.owner === restartedOwner
              ? `its worker ${row.owner} restarted`
              : `the lease of its worker ${row.owner} expired`;
        const moved = await moveRun(tx, journal, row, 'interrupt', { actor: SYSTEM, reason });
        if (moved.ok) out.push(moved.run);
      }
      return out;
    });
  }

  expireDue(): Promise<Run[]> {
    return this.tx(async (tx, journal) => {
      const r = await tx.query<RunRow>(
        `SELECT * FROM kbops_runs
         WHERE state IN ('awaiting_approval', 'approved') AND expires_at <= now()
         ORDER BY created_at, id FOR UPDATE SKIP LOCKED`,
      );
      const out: Run[] = [];
      for (const row of r.rows) {
        // Expired is final and lets go of the lock: never for a run (retried, gated) that changed the cluster.
        if (mutatedAnything(row.plan, row.next_step, row.undo_next)) continue;
        const moved = await moveRun(tx, journal, row, 'expire', {
          actor: SYSTEM,
          reason: 'approval deadline passed',
        });
        if (moved.ok) out.push(moved.run);
      }
      return out;
    });
  }

  requestCancel(id: string, actor: string): Promise<boolean> {
    return this.tx(async (tx, journal) => {
      const row = await lockRun(tx, id);
      if (!row || row.state !== 'running') return false; // only a worker's execution is cancelled by request
      if (row.cancel_requested) return true;
      await tx.query('UPDATE kbops_runs SET cancel_requested = true, updated_at = now() WHERE id = $1', [id]);
      journal({
        runId: id,
        cluster: row.cluster,
        actor,
        event: { type: 'audit', action: 'cancel-requested' },
      });
      return true;
    });
  }

  async getLock(cluster: string): Promise<LockInfo | undefined> {
    const r = await this.db.query<LockRow>('SELECT * FROM kbops_locks WHERE cluster = $1', [cluster]);
    return r.rows[0] && toLock(r.rows[0]);
  }

  forceReleaseLock(cluster: string, actor: string, reason: string): Promise<ForceReleaseResult> {
    return this.tx((tx, journal) => forceReleaseLock(tx, journal, cluster, actor, reason));
  }

  close(): Promise<void> {
    return this.db.close();
  }

  private tx<T>(fn: (tx: Queryable, journal: Journal) => Promise<T>): Promise<T> {
    return journaledTransaction(this.db, fn);
  }
}
