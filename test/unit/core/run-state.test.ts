import {
  holdsLock,
  isActive,
  isFinal,
  RUN_EVENTS,
  RUN_STATES,
  transition,
} from '../../../src/core/run-state';

// The complete table, written out independently of the implementation: every pair not listed here
// must be refused.
const LEGAL: ReadonlyArray<[string, string, string]> = [
  ['awaiting_approval', 'approve', 'approved'],
  ['awaiting_approval', 'reject', 'rejected'],
  ['awaiting_approval', 'expire', 'expired'],
  ['awaiting_approval', 'cancel', 'cancelled'],
  ['approved', 'start', 'running'],
  ['approved', 'reject', 'rejected'],
  ['approved', 'expire', 'expired'],
  ['approved', 'cancel', 'cancelled'],
  ['running', 'succeed', 'succeeded'],
  ['running', 'fail', 'failed'],
  ['running', 'cancel', 'cancelled'],
  ['running', 'interrupt', 'interrupted'],
  ['running', 'gate', 'awaiting_approval'],
  ['failed', 'rollback', 'rolling_back'],
  ['failed', 'retry', 'approved'],
  ['cancelled', 'rollback', 'rolling_back'],
  ['interrupted', 'resume', 'approved'],
  ['interrupted', 'rollback', 'rolling_back'],
  ['rolling_back', 'rolled-back', 'rolled_back'],
  ['rolling_back', 'rollback-fail', 'rollback_failed'],
  ['rolling_back', 'interrupt', 'interrupted'],
  ['rollback_failed', 'rollback', 'rolling_back'],
];

const legal = new Map(LEGAL.map(([s, e, t]) => [`${s}/${e}`, t]));
const allPairs = RUN_STATES.flatMap((s) => RUN_EVENTS.map((e) => [s, e] as const));

describe('run state machine', () => {
  it(`covers ${RUN_STATES.length} states × ${RUN_EVENTS.length} events`, () => {
    expect(allPairs).toHaveLength(12 * 14);
  });

  it.each(LEGAL)('%s --%s--> %s', (state, event, to) => {
    expect(transition(state as never, event as never)).toEqual({ ok: true, state: to });
  });

  const illegal = allPairs.filter(([s, e]) => !legal.has(`${s}/${e}`));
  it.each(illegal)('%s refuses %s with a reason', (state, event) => {
    const r = transition(state, event);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).toContain(state);
    if (!isFinal(state)) expect(r.reason).toContain(`cannot ${event}`);
    else expect(r.reason).toContain('final');
  });

  it('has exactly these final states', () => {
    expect(RUN_STATES.filter(isFinal)).toEqual(['succeeded', 'rolled_back', 'rejected', 'expired']);
  });

  it('keeps the cluster lock while the cluster may be half-changed', () => {
    expect(RUN_STATES.filter((s) => holdsLock(s, true))).toEqual([
      'awaiting_approval',
      'approved',
      'running',
      'failed',
      'rolling_back',
      'rollback_failed',
      'cancelled',
      'interrupted',
    ]);
    expect(holdsLock('cancelled', false)).toBe(false);
    // A run that failed before changing anything (drift found at its start) frees the cluster.
    expect(holdsLock('failed', false)).toBe(false);
    expect(holdsLock('succeeded', true)).toBe(false);
  });

  it('knows which states a worker executes', () => {
    expect(RUN_STATES.filter(isActive)).toEqual(['running', 'rolling_back']);
  });
});
