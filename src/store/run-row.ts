import type { Json } from '../core/json';
import type { SealedPlan } from '../core/plan';
import type { JournalEntry, JournalEvent, Run, StoredEvent } from '../core/run';
import type { RunState } from '../core/run-state';
import type { ApprovalRecord, LockInfo } from '../ports/run-store';

// Rows as both drivers return them: timestamptz as Date, jsonb parsed, bigint as a string (pg) or a
// number (PGlite).

type Timestamp = Date | string;

export interface RunRow {
  readonly id: string;
  readonly cluster: string;
  readonly plan: SealedPlan;
  readonly requester: string;
  readonly state: RunState;
  readonly next_step: number;
  readonly undo_next: number | null;
  readonly owner: string | null;
  readonly lease_until: Timestamp | null;
  readonly cancel_requested: boolean;
  readonly created_at: Timestamp;
  readonly updated_at: Timestamp;
  readonly expires_at: Timestamp | null;
  readonly meta: Record<string, Json>;
}

export interface LockRow {
  readonly cluster: string;
  readonly run_id: string;
  readonly holder: string;
  readonly acquired_at: Timestamp;
}

export interface EventRow {
  readonly id: string | number;
  readonly run_id: string | null;
  readonly cluster: string;
  readonly at: Timestamp;
  readonly actor: string;
  readonly type: string;
  readonly data: Record<string, Json>;
}

export interface ApprovalRow {
  readonly run_id: string;
  readonly user_id: string;
  readonly plan_hash: string;
  readonly decision: 'approve' | 'reject';
  readonly at: Timestamp;
}

export const iso = (t: Timestamp): string => (t instanceof Date ? t : new Date(t)).toISOString();
const isoOrNull = (t: Timestamp | null): string | null => (t === null ? null : iso(t));

/** Parameters are sent as text and cast in SQL: node-postgres would turn a JS array into a PG array. */
export const jsonParam = (value: Json | object): string => JSON.stringify(value);

export const toRun = (r: RunRow): Run => ({
  id: r.id,
  cluster: r.cluster,
  plan: r.plan,
  state: r.state,
  requester: r.requester,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  expiresAt: isoOrNull(r.expires_at),
  nextStep: r.next_step,
  undoNext: r.undo_next,
  owner: r.owner,
  leaseUntil: isoOrNull(r.lease_until),
  cancelRequested: r.cancel_requested,
  meta: r.meta,
});

export const toLock = (r: LockRow): LockInfo => ({
  cluster: r.cluster,
  runId: r.run_id,
  holder: r.holder,
  acquiredAt: iso(r.acquired_at),
});

export const toApproval = (r: ApprovalRow): ApprovalRecord => ({
  runId: r.run_id,
  userId: r.user_id,
  planHash: r.plan_hash,
  decision: r.decision,
  at: iso(r.at),
});

// The event's type has its own column (for filtering); the rest of the event is `data`.
export function eventColumns(entry: JournalEntry): unknown[] {
  const { type, ...data } = entry.event;
  return [entry.runId, entry.cluster, entry.actor, type, jsonParam(data)];
}

export const toStoredEvent = (r: EventRow): StoredEvent => ({
  id: Number(r.id),
  at: iso(r.at),
  runId: r.run_id,
  cluster: r.cluster,
  actor: r.actor,
  event: { ...r.data, type: r.type } as unknown as JournalEvent,
});

export function one<R>(rows: readonly R[]): R {
  const row = rows[0];
  if (row === undefined) throw new Error('expected a row, got none');
  return row;
}
