import { sealPlan, type SealedPlan, type Step } from '../../../src/core/plan';
import type { RunStore } from '../../../src/ports/run-store';
import { claimed, executorFor, planOf, target } from './executor-harness';
import { FakeConnector, RecordingNotifier } from './fakes';
import { memoryRunStore } from './memory-run-store';

// A failover drill stops the primary: when a later step fails, the plan itself demands the rollback
// (whatever the inventory says), and the undo first checks on another host that starting the old
// primary again cannot make two primaries.

const standby = { ...target, name: 'n2', host: '192.0.2.2' };

const stopPrimary: Step = {
  id: 'stop',
  title: 'stop the primary',
  target: 'n1',
  action: { kind: 'ssh', argv: ['pg-stop'] },
  timeoutMs: 5000,
  mutates: true,
  undo: [
    {
      kind: 'verify',
      probe: { kind: 'ssh', argv: ['pg-in-recovery'] },
      expect: { kind: 'exit-code', equals: 0 },
      on: 'n2',
    },
    { kind: 'ssh', argv: ['pg-start'] },
  ],
  effect: { probe: { kind: 'ssh', argv: ['pg-status'] }, present: { kind: 'exit-code', equals: 3 } },
};

const waitPromotion: Step = {
  id: 'wait',
  title: 'the standby takes over',
  target: 'n2',
  action: { kind: 'ssh', argv: ['pg-promoted'] },
  timeoutMs: 5000,
  mutates: false,
  undo: null,
};

function drill(rollbackOnFailure: boolean): SealedPlan {
  const { hash: _hash, ...rest } = planOf([stopPrimary, waitPromotion]);
  return sealPlan({
    ...rest,
    targets: { n1: target, n2: standby },
    ...(rollbackOnFailure && { rollbackOnFailure: true as const }),
  });
}

let store: RunStore;
let connector: FakeConnector;
let notifier: RecordingNotifier;
beforeAll(async () => {
  store = await memoryRunStore();
});
afterAll(() => store.close());
beforeEach(() => {
  connector = new FakeConnector();
  notifier = new RecordingNotifier();
  connector.shellFor('n2').on(/pg-promoted/, () => ({ exitCode: 1, stderr: 'still a standby' }));
});

const calls = (host: string) => connector.shellFor(host).calls.map((c) => c.replace(/'/g, ''));

describe('a plan that rolls back on failure', () => {
  it('rolls back although the inventory leaves it to an operator, and says why', async () => {
    const run = await claimed(store, drill(true), 'd');
    const done = await executorFor(store, connector, notifier, { autoRollback: false }).execute(run);
    expect(done.state).toBe('rolled_back');
    expect(calls('n1')).toEqual(['pg-stop', 'pg-start']);
    expect(calls('n2')).toEqual(['pg-promoted', 'pg-in-recovery']); // checked before the start
    const rollback = (await store.events({ runId: run.id })).find(
      (e) => e.event.type === 'state' && e.event.to === 'rolling_back',
    );
    expect(rollback?.event).toMatchObject({ reason: 'the plan rolls back on failure' });
  });

  it('without it, a failed run waits for an operator when the inventory says so', async () => {
    const run = await claimed(store, drill(false), 'd');
    const done = await executorFor(store, connector, notifier, { autoRollback: false }).execute(run);
    expect(done.state).toBe('failed');
    expect(calls('n1')).toEqual(['pg-stop']);
  });

  it('stops the rollback, the old primary left stopped, when the check on the other host fails', async () => {
    connector.shellFor('n2').on(/pg-in-recovery/, () => ({ exitCode: 1 })); // n2 was promoted after all
    const run = await claimed(store, drill(true), 'd');
    const done = await executorFor(store, connector, notifier).execute(run);
    expect(done.state).toBe('rollback_failed');
    expect(calls('n1')).toEqual(['pg-stop']); // never started again: two primaries otherwise
    const failed = (await store.events({ runId: run.id })).find(
      (e) => e.event.type === 'state' && e.event.to === 'rollback_failed',
    );
    expect(failed?.event).toMatchObject({
      reason: 'undo of step 1 (stop the primary) failed: on n2: exit code 1, expected exit code 0',
    });
  });
});
