import type { Json } from './json';
import type { SealedPlan } from './plan';
import type { RunEventType, RunState } from './run-state';

/** A user-facing failure: expected, explained, with what to do. Not an exception. */
export interface Failure {
  readonly code: string;
  readonly message: string;
  readonly hint?: string;
}

/** How one step (or one undo) ended. `error` is a system fault; `failure` is an expected outcome. */
export type StepOutcome =
  | { readonly ok: true; readonly detail?: Json }
  | {
      readonly ok: false;
      readonly kind: 'failure' | 'error';
      readonly failure: Failure;
      readonly detail?: Json;
      /** Known to have changed nothing (refused up front, or one SQL statement that failed): nothing to undo. */
      readonly unchanged?: boolean;
    };

/** One check of a verdict, as run: whether it held, how long it waited, what was seen. */
export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly waitedMs: number;
  readonly detail: string;
}

export interface Run {
  readonly id: string;
  readonly cluster: string;
  readonly plan: SealedPlan;
  readonly state: RunState;
  readonly requester: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Approval deadline (TTL); null: never expires. */
  readonly expiresAt: string | null;
  /** Steps [0, nextStep) have completed, in order. */
  readonly nextStep: number;
  /** During a rollback: the index of the next step to undo (counting down); null otherwise. */
  readonly undoNext: number | null;
  /** Which kbops process executes it, and until when its lease holds. */
  readonly owner: string | null;
  readonly leaseUntil: string | null;
  readonly cancelRequested: boolean;
  /** Front-end data, e.g. { slack: { channel, ts } }. */
  readonly meta: Readonly<Record<string, Json>>;
}

/** What the journal records. Written before anyone is notified. */
export type JournalEvent =
  | { readonly type: 'created' }
  | { readonly type: 'approval'; readonly decision: 'approve' | 'reject'; readonly planHash: string }
  | {
      readonly type: 'state';
      readonly from: RunState;
      readonly to: RunState;
      readonly event: RunEventType;
      readonly reason?: string;
    }
  | {
      readonly type: 'step-started';
      readonly index: number;
      readonly stepId: string;
      readonly phase: 'do' | 'undo';
    }
  | {
      readonly type: 'step-progress';
      readonly index: number;
      readonly stepId: string;
      readonly percent?: number;
      readonly message?: string;
    }
  | {
      readonly type: 'step-finished';
      readonly index: number;
      readonly stepId: string;
      readonly phase: 'do' | 'undo';
      readonly durationMs: number;
      readonly outcome: StepOutcome;
    }
  | {
      /** A remote command's process group, so a later claim can make sure it is gone. */
      readonly type: 'remote-started';
      readonly index: number;
      readonly stepId: string;
      readonly phase: 'do' | 'undo';
      readonly target: string;
      readonly pgid: number;
      readonly nonce: string;
    }
  | {
      readonly type: 'probe';
      readonly index: number;
      readonly stepId: string;
      readonly present: boolean | null;
    }
  | {
      readonly type: 'lock';
      readonly action: 'taken' | 'released' | 'force-released' | 'refused';
      readonly heldByRun?: string;
      readonly reason?: string;
    }
  | { readonly type: 'audit'; readonly action: string; readonly data?: Json };

export interface JournalEntry {
  readonly runId: string | null;
  readonly cluster: string;
  readonly actor: string;
  readonly event: JournalEvent;
}

export interface StoredEvent extends JournalEntry {
  readonly id: number;
  readonly at: string;
}

/**
 * Whether anything may have been changed: a completed step (0 … nextStep-1) that mutates, or a
 * mutating step that was started and stopped part-way (recorded as undoNext).
 */
export const mutatedAnything = (
  plan: SealedPlan,
  nextStep: number,
  undoNext: number | null = null,
): boolean =>
  plan.steps.slice(0, Math.max(nextStep, undoNext === null ? 0 : undoNext + 1)).some((s) => s.mutates);
