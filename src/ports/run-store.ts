import type { Json } from '../core/json';
import type { SealedPlan } from '../core/plan';
import type { Failure, JournalEntry, Run, StoredEvent } from '../core/run';
import type { RunEventType, RunState } from '../core/run-state';

export interface NewRun {
  readonly id: string;
  readonly plan: SealedPlan; // cluster and requester come from the plan
  readonly expiresAt: string | null;
  readonly meta?: Readonly<Record<string, Json>>;
}

export interface LockInfo {
  readonly cluster: string;
  readonly runId: string;
  readonly holder: string;
  readonly acquiredAt: string;
}

export interface ApprovalRecord {
  readonly runId: string;
  readonly userId: string;
  readonly planHash: string;
  readonly decision: 'approve' | 'reject';
  readonly at: string;
}

export interface RunPatch {
  readonly nextStep?: number;
  readonly undoNext?: number | null;
  readonly meta?: Readonly<Record<string, Json>>;
}

export interface ApplyOptions {
  readonly actor: string;
  readonly reason?: string;
  readonly expect?: readonly RunState[];
  readonly owner?: string;
  readonly patch?: RunPatch;
  /** The caller becomes the owner of the (active) new state, e.g. an executor rolling back at once. */
  readonly claim?: { readonly owner: string; readonly leaseMs: number };
}

export type ApplyResult = { ok: true; run: Run } | { ok: false; reason: string };

/** What a vote does, decided from the run and the votes already stored (see castVote). */
export type VoteVerdict =
  | { readonly ok: false; readonly failure: Failure }
  | {
      readonly ok: true;
      readonly record: Omit<ApprovalRecord, 'at' | 'runId'>;
      /** The state change this vote completes (the last approval needed, or a rejection). */
      readonly move?: {
        readonly event: 'approve' | 'reject';
        readonly reason: string;
        readonly patch?: RunPatch;
      };
    };

export type CastVoteResult = { ok: true; run: Run } | { ok: false; failure: Failure };

/** Why a forced unlock did not happen. */
export type ForceReleaseResult =
  | { ok: true; released: LockInfo }
  | { ok: false; reason: 'not-locked' }
  /** The lock's run is being executed by a live worker: forcing the lock would let a second run in. */
  | {
      ok: false;
      reason: 'executing';
      lock: LockInfo;
      run: {
        readonly id: string;
        readonly state: RunState;
        readonly owner: string;
        readonly leaseUntil: string;
      };
    };

/**
 * Durable state of runs, shared by every kbops replica. Each method is atomic. State changes go
 * through core/run-state's transition table and are journaled in the same transaction.
 */
export interface RunStore {
  /** Stores the run as awaiting_approval and takes its cluster's lock, or says who holds it. Journals 'created' + lock 'taken' (or 'refused'). */
  createRun(run: NewRun): Promise<{ ok: true; run: Run } | { ok: false; lockedBy: LockInfo }>;
  getRun(id: string): Promise<Run | undefined>;
  listRuns(filter?: { cluster?: string; states?: readonly RunState[]; limit?: number }): Promise<Run[]>;
  /**
   * Applies a state-machine event (refused with the table's reason when illegal, or when the run is
   * not in `expect`), journals it, and releases the cluster lock when the new state no longer holds it.
   * `owner` (when given) must match the run's owner: a process that lost its lease cannot move the run.
   */
  applyEvent(id: string, event: RunEventType, options: ApplyOptions): Promise<ApplyResult>;
  /** Updates progress of a run this owner executes; false when it is no longer the owner. */
  updateRun(id: string, owner: string, patch: RunPatch): Promise<boolean>;
  /** Appends to the journal (append-only: never updated or deleted). */
  append(entry: JournalEntry): Promise<StoredEvent>;
  events(filter: {
    runId?: string;
    cluster?: string;
    afterId?: number;
    limit?: number;
  }): Promise<StoredEvent[]>;
  /**
   * A vote, decided and applied in one transaction: the run row is locked, `decide` (pure) sees the
   * run and every vote stored so far, and the vote it returns is stored, journaled ('approval') and
   * its state change applied before anyone else may vote. Two votes at once are therefore both
   * counted: the second sees the first. A repeat of a stored vote is refused as 'already-approved'.
   */
  castVote(
    runId: string,
    decide: (run: Run, existing: readonly ApprovalRecord[]) => VoteVerdict,
  ): Promise<CastVoteResult>;
  /** One vote per user, run and plan hash; a repeat (double click) is 'duplicate' and changes nothing. */
  recordApproval(approval: Omit<ApprovalRecord, 'at'>): Promise<'recorded' | 'duplicate'>;
  approvals(runId: string): Promise<ApprovalRecord[]>;
  /**
   * Claims one run for `owner`: an approved run (→ running, journaled) or a rolling_back run that has
   * no owner. Never hands the same run to two claimants (FOR UPDATE SKIP LOCKED).
   */
  claimNext(owner: string, leaseMs: number): Promise<Run | undefined>;
  /** Extends the lease; false when the run is no longer this owner's to execute. */
  renewLease(id: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Active runs whose lease expired, or that belong to `restartedOwner` → interrupted (journaled). */
  interruptOrphans(restartedOwner?: string): Promise<Run[]>;
  /** awaiting_approval / approved runs past their expiresAt → expired (journaled, lock released). */
  expireDue(): Promise<Run[]>;
  requestCancel(id: string, actor: string): Promise<boolean>;
  getLock(cluster: string): Promise<LockInfo | undefined>;
  /**
   * Admin override: drops the lock, journaled as 'force-released', unless its run is executing with
   * a live lease (running / rolling_back, an owner, lease not expired): checked and released in one
   * transaction, so a worker cannot claim or renew in between.
   */
  forceReleaseLock(cluster: string, actor: string, reason: string): Promise<ForceReleaseResult>;
  close(): Promise<void>;
}
