// The run state machine: pure, table-tested. Every state change in kbops goes through `transition`.
//
// `failed`, `cancelled` (after a mutating step), `interrupted` and `rollback_failed` keep the cluster
// lock: the cluster may be half-changed, and only a rollback, a retry, or an audited admin unlock
// ends them. `rollback_failed` is ours, beyond the brief's list: an undo that fails must be seen.

export const RUN_STATES = [
  'awaiting_approval',
  'approved',
  'running',
  'succeeded',
  'failed',
  'rolling_back',
  'rolled_back',
  'rollback_failed',
  'rejected',
  'expired',
  'cancelled',
  'interrupted',
] as const;

export type RunState = (typeof RUN_STATES)[number];

export const RUN_EVENTS = [
  'approve', // the approval policy is now satisfied
  'reject',
  'expire',
  'start', // a worker claimed the run
  'gate', // the next step needs more approvals than the run has: wait for them
  'succeed',
  'fail',
  'cancel',
  'interrupt', // the process running it died
  'resume', // operator: continue after the last step whose effect is confirmed
  'retry', // operator: run the failed step again
  'rollback', // operator or policy: undo the completed mutating steps
  'rolled-back',
  'rollback-fail',
] as const;

export type RunEventType = (typeof RUN_EVENTS)[number];

const TABLE: Readonly<Record<RunState, Partial<Record<RunEventType, RunState>>>> = {
  awaiting_approval: { approve: 'approved', reject: 'rejected', expire: 'expired', cancel: 'cancelled' },
  approved: { start: 'running', reject: 'rejected', expire: 'expired', cancel: 'cancelled' },
  running: {
    succeed: 'succeeded',
    fail: 'failed',
    cancel: 'cancelled',
    interrupt: 'interrupted',
    gate: 'awaiting_approval',
  },
  failed: { rollback: 'rolling_back', retry: 'approved' },
  cancelled: { rollback: 'rolling_back' },
  interrupted: { resume: 'approved', rollback: 'rolling_back' },
  rolling_back: {
    'rolled-back': 'rolled_back',
    'rollback-fail': 'rollback_failed',
    interrupt: 'interrupted',
  },
  rollback_failed: { rollback: 'rolling_back' },
  succeeded: {},
  rolled_back: {},
  rejected: {},
  expired: {},
};

export type TransitionResult = { ok: true; state: RunState } | { ok: false; reason: string };

export function transition(state: RunState, event: RunEventType): TransitionResult {
  const next = TABLE[state][event];
  if (next !== undefined) return { ok: true, state: next };
  const allowed = Object.keys(TABLE[state]);
  return {
    ok: false,
    reason:
      allowed.length === 0
        ? `the run is ${state}, which is final: nothing more can happen to it`
        : `cannot ${event} a run that is ${state} (possible: ${allowed.join(', ')})`,
  };
}

/** States from which nothing can follow. */
export const isFinal = (state: RunState): boolean => Object.keys(TABLE[state]).length === 0;

/**
 * Whether the run still holds its cluster's lock. A cancelled or failed run that never changed
 * anything (e.g. it found the cluster changed since planning) releases it, so a new plan can be
 * made; one that did keeps it until rolled back (pass whether any mutating step completed). A retry
 * takes the lock back, unless another run holds it by then.
 */
export function holdsLock(state: RunState, mutatedAnything: boolean): boolean {
  if (state === 'cancelled' || state === 'failed') return mutatedAnything;
  return !isFinal(state);
}

/** States in which a worker may be executing the run right now. */
export const isActive = (state: RunState): boolean => state === 'running' || state === 'rolling_back';
