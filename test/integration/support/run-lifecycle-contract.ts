import type { Run } from '../../../src/core/run';
import { transition } from '../../../src/core/run-state';
import type { SqlRunStore } from '../../../src/store/sql-run-store';
import { runGatesContract } from './run-gates-contract';
import { must, type StoreHarness } from './store-harness';
import { testPlan } from './test-plan';

/** Run lifecycle: the cluster lock, transitions, claims, leases, orphans, expiry, cancel, admin unlock. */
export function runLifecycleContract(h: StoreHarness): void {
  let store: SqlRunStore;
  beforeAll(() => {
    store = h.store;
  });
  const { uid, created, approved, running, types } = h;

  test('createRun takes the cluster lock; a second run on it is refused with who holds it', async () => {
    const first = await created('alpha');
    expect(first).toMatchObject({
      state: 'awaiting_approval',
      cluster: 'alpha',
      requester: 'U-alice',
      nextStep: 0,
    });
    expect(first.owner).toBeNull();
    expect(new Date(first.createdAt).toISOString()).toBe(first.createdAt);
    const lock = await store.getLock('alpha');
    expect(lock).toMatchObject({ cluster: 'alpha', runId: first.id, holder: 'U-alice' });

    const second = await store.createRun({
      id: 'refused-1',
      plan: testPlan('alpha', 'U-carol'),
      expiresAt: null,
    });
    expect(second).toEqual({ ok: false, lockedBy: lock });
    expect(await store.getRun('refused-1')).toBeUndefined();
    const [refusal] = await store.events({ runId: 'refused-1' });
    expect(refusal).toMatchObject({
      cluster: 'alpha',
      actor: 'U-carol',
      event: { type: 'lock', action: 'refused', heldByRun: first.id },
    });
    expect(await types(first.id)).toEqual(['created', 'lock:taken']);

    expect((await store.createRun({ id: uid('run'), plan: testPlan('beta'), expiresAt: null })).ok).toBe(
      true,
    );
  });

  test('applyEvent moves legal transitions, journals them, and refuses the rest with the table reason', async () => {
    const run = await created();
    const moved = must(
      await store.applyEvent(run.id, 'approve', { actor: 'U-bob', reason: '1 of 1 approvals' }),
    );
    expect(moved.state).toBe('approved');
    const last = (await store.events({ runId: run.id })).at(-1);
    expect(last).toMatchObject({
      actor: 'U-bob',
      event: {
        type: 'state',
        from: 'awaiting_approval',
        to: 'approved',
        event: 'approve',
        reason: '1 of 1 approvals',
      },
    });

    const illegal = await store.applyEvent(run.id, 'succeed', { actor: 'U-bob' });
    expect(illegal).toEqual({
      ok: false,
      reason: (transition('approved', 'succeed') as { reason: string }).reason,
    });
    const rejected = must(await store.applyEvent(run.id, 'reject', { actor: 'U-bob' }));
    const final = await store.applyEvent(rejected.id, 'approve', { actor: 'U-bob' });
    expect(final).toEqual({
      ok: false,
      reason: (transition('rejected', 'approve') as { reason: string }).reason,
    });
    expect((await store.applyEvent('no-such-run', 'approve', { actor: 'x' })).ok).toBe(false);
  });

  test('applyEvent honours expect and owner', async () => {
    const run = await created();
    const wrong = await store.applyEvent(run.id, 'cancel', { actor: 'U-bob', expect: ['approved'] });
    expect(wrong).toEqual({ ok: false, reason: expect.stringContaining('awaiting_approval') });
    expect((await store.getRun(run.id))?.state).toBe('awaiting_approval');

    const mine = await running('w1');
    expect((await store.applyEvent(mine.id, 'succeed', { actor: 'w2', owner: 'w2' })).ok).toBe(false);
    expect((await store.getRun(mine.id))?.state).toBe('running');
    expect(must(await store.applyEvent(mine.id, 'succeed', { actor: 'w1', owner: 'w1' })).state).toBe(
      'succeeded',
    );
  });

  test('the lock is released on succeeded, rejected and expired', async () => {
    const ok = await running();
    must(await store.applyEvent(ok.id, 'succeed', { actor: 'w1', owner: 'w1', patch: { nextStep: 3 } }));
    expect(await store.getLock(ok.cluster)).toBeUndefined();
    expect(await types(ok.id)).toEqual([
      'created',
      'lock:taken',
      'state:approve',
      'state:start',
      'state:succeed',
      'lock:released',
    ]);

    const rejected = await created();
    must(await store.applyEvent(rejected.id, 'reject', { actor: 'U-bob' }));
    expect(await store.getLock(rejected.cluster)).toBeUndefined();

    const late = await created(uid('c'), new Date(Date.now() - 60_000).toISOString());
    const later = await created(uid('c'), new Date(Date.now() + 3_600_000).toISOString());
    const never = await created();
    const expired = await store.expireDue();
    expect(expired.map((r) => [r.id, r.state])).toEqual([[late.id, 'expired']]);
    expect(await store.getLock(late.cluster)).toBeUndefined();
    expect(await store.getLock(later.cluster)).toBeDefined();
    expect((await store.getRun(never.id))?.state).toBe('awaiting_approval');
    expect(await store.expireDue()).toEqual([]);
  });

  test('failed, interrupted and cancelled-after-a-mutating-step keep the lock; rolled_back releases it', async () => {
    const run = await running('w1');
    expect(await store.updateRun(run.id, 'w1', { nextStep: 2 })).toBe(true);
    must(await store.applyEvent(run.id, 'fail', { actor: 'w1', owner: 'w1' }));
    expect((await store.getLock(run.cluster))?.runId).toBe(run.id);

    const back = must(await store.applyEvent(run.id, 'rollback', { actor: 'U-bob', patch: { undoNext: 1 } }));
    expect(back).toMatchObject({ state: 'rolling_back', owner: null, undoNext: 1 });
    const claimed = await store.claimNext('w2', 60_000);
    expect(claimed).toMatchObject({ id: run.id, state: 'rolling_back', owner: 'w2' });
    expect(await store.updateRun(run.id, 'w2', { undoNext: 0 })).toBe(true);
    must(
      await store.applyEvent(run.id, 'rolled-back', {
        actor: 'w2',
        owner: 'w2',
        patch: { undoNext: null },
      }),
    );
    expect(await store.getLock(run.cluster)).toBeUndefined();

    const lost = await running('w-old');
    const [orphan] = await store.interruptOrphans('w-old');
    expect(orphan).toMatchObject({ id: lost.id, state: 'interrupted', owner: null, leaseUntil: null });
    expect((await store.getLock(lost.cluster))?.runId).toBe(lost.id);

    const half = await running('w1');
    await store.updateRun(half.id, 'w1', { nextStep: 2 });
    must(await store.applyEvent(half.id, 'cancel', { actor: 'w1', owner: 'w1' }));
    expect((await store.getLock(half.cluster))?.runId).toBe(half.id);
  });

  test('cancelled before anything changed releases the lock', async () => {
    const waiting = await created();
    must(await store.applyEvent(waiting.id, 'cancel', { actor: 'U-alice' }));
    expect(await store.getLock(waiting.cluster)).toBeUndefined();

    const started = await running('w1');
    await store.updateRun(started.id, 'w1', { nextStep: 1 }); // only the non-mutating check ran
    must(await store.applyEvent(started.id, 'cancel', { actor: 'w1', owner: 'w1' }));
    expect(await store.getLock(started.cluster)).toBeUndefined();
  });

  test('claimNext hands out each approved run once, with owner and lease', async () => {
    const runs = [await approved(), await approved(), await approved()];
    await created(); // awaiting approval: not claimable
    const before = Date.now();
    const got: Run[] = [];
    for (let r = await store.claimNext('w1', 30_000); r; r = await store.claimNext('w1', 30_000)) got.push(r);
    expect(got.map((r) => r.id)).toEqual(runs.map((r) => r.id));
    for (const r of got) {
      expect(r).toMatchObject({ state: 'running', owner: 'w1' });
      expect(Date.parse(r.leaseUntil ?? '')).toBeGreaterThan(before + 20_000);
    }
    expect((await store.events({ runId: runs[0]?.id })).at(-1)).toMatchObject({
      actor: 'w1',
      event: { type: 'state', from: 'approved', to: 'running', event: 'start' },
    });
  });

  test('renewLease and updateRun belong to the owner, and stop after an interrupt', async () => {
    const run = await running('w1', 5_000);
    expect(await store.renewLease(run.id, 'w1', 60_000)).toBe(true);
    const renewed = await store.getRun(run.id);
    expect(Date.parse(renewed?.leaseUntil ?? '')).toBeGreaterThan(Date.parse(run.leaseUntil ?? ''));
    expect(await store.renewLease(run.id, 'w2', 60_000)).toBe(false);
    expect(await store.updateRun(run.id, 'w2', { nextStep: 1 })).toBe(false);
    expect(await store.updateRun(run.id, 'w1', { nextStep: 1, meta: { slack: { ts: '1.2' } } })).toBe(true);
    expect(await store.getRun(run.id)).toMatchObject({ nextStep: 1, meta: { slack: { ts: '1.2' } } });

    await store.interruptOrphans('w1');
    expect(await store.renewLease(run.id, 'w1', 60_000)).toBe(false);
    expect(await store.updateRun(run.id, 'w1', { nextStep: 2 })).toBe(false);
  });

  test('interruptOrphans takes runs whose lease expired or whose owner restarted', async () => {
    const brief = await running('w-brief', 50);
    const steady = await running('w-steady', 60_000);
    await new Promise((r) => setTimeout(r, 200));
    const first = await store.interruptOrphans();
    expect(first.map((r) => [r.id, r.state, r.owner])).toEqual([[brief.id, 'interrupted', null]]);
    expect((await store.events({ runId: brief.id })).at(-1)).toMatchObject({
      event: {
        type: 'state',
        event: 'interrupt',
        to: 'interrupted',
        reason: expect.stringContaining('lease'),
      },
    });
    expect(await store.interruptOrphans('someone-else')).toEqual([]);
    const second = await store.interruptOrphans('w-steady');
    expect(second.map((r) => r.id)).toEqual([steady.id]);
  });

  test('expireDue never expires a run that changed the cluster', async () => {
    const past = new Date(Date.now() - 1_000).toISOString();
    const run = await approved(uid('c'), past);
    expect((await store.claimNext('w1', 60_000))?.id).toBe(run.id);
    await store.updateRun(run.id, 'w1', { nextStep: 2 });
    must(await store.applyEvent(run.id, 'fail', { actor: 'w1', owner: 'w1' }));
    must(await store.applyEvent(run.id, 'retry', { actor: 'U-bob' }));
    expect(await store.expireDue()).toEqual([]);
    expect((await store.getRun(run.id))?.state).toBe('approved');
  });

  test('requestCancel flags a running run once, journaled; the flag ends with the execution', async () => {
    const run = await running('w1');
    expect(await store.requestCancel(run.id, 'U-alice')).toBe(true);
    expect(await store.requestCancel(run.id, 'U-alice')).toBe(true);
    expect((await store.getRun(run.id))?.cancelRequested).toBe(true);
    expect((await types(run.id)).filter((t) => t === 'audit')).toHaveLength(1);
    const cancelled = must(await store.applyEvent(run.id, 'cancel', { actor: 'w1', owner: 'w1' }));
    expect(cancelled).toMatchObject({ state: 'cancelled', cancelRequested: false, owner: null });
    expect(await store.requestCancel((await created()).id, 'U-alice')).toBe(false);
    expect(await store.requestCancel('no-such-run', 'U-alice')).toBe(false);
  });

  test('forceReleaseLock is journaled with actor and reason; the run cannot execute on a lock it lost', async () => {
    const run = await running('w1');
    await store.updateRun(run.id, 'w1', { nextStep: 2 });
    await store.interruptOrphans('w1');
    const lock = await store.getLock(run.cluster);
    expect(await store.forceReleaseLock(run.cluster, 'U-admin', 'node fixed by hand')).toEqual({
      ok: true,
      released: lock,
    });
    expect(await store.getLock(run.cluster)).toBeUndefined();
    expect(await store.forceReleaseLock(run.cluster, 'U-admin', 'again')).toEqual({
      ok: false,
      reason: 'not-locked',
    });
    expect((await store.events({ runId: run.id })).at(-1)).toMatchObject({
      actor: 'U-admin',
      cluster: run.cluster,
      event: { type: 'lock', action: 'force-released', heldByRun: run.id, reason: 'node fixed by hand' },
    });

    const other = await store.createRun({ id: uid('run'), plan: testPlan(run.cluster), expiresAt: null });
    expect(other.ok).toBe(true);
    const resumed = await store.applyEvent(run.id, 'resume', { actor: 'U-bob', expect: ['interrupted'] });
    expect(resumed).toEqual({ ok: false, reason: expect.stringContaining('is locked by run') });
    if (other.ok) must(await store.applyEvent(other.run.id, 'cancel', { actor: 'U-alice' }));
    must(await store.applyEvent(run.id, 'resume', { actor: 'U-bob' }));
    expect((await store.getLock(run.cluster))?.runId).toBe(run.id);
  });

  runGatesContract(h);
}
