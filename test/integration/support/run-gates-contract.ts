import type { Clock } from '../../../src/ports/clock';
import { RunService, type RunPolicy } from '../../../src/engine/run-service';
import type { SqlRunStore } from '../../../src/store/sql-run-store';
import { must, type StoreHarness } from './store-harness';

// The gates a store must keep atomically (issue 8): a forced unlock never takes the lock from a run
// a live worker is executing, and votes arriving together are all counted.

const clock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

const policy: RunPolicy = {
  required: 2,
  approvers: { users: ['U-a', 'U-b', 'U-c'], groups: [] },
  allowSelfApproval: false,
  ttlMs: Infinity,
  autoRollback: false,
  admins: { users: ['U-admin'], groups: [] },
};

export function runGatesContract(h: StoreHarness): void {
  let store: SqlRunStore;
  let service: RunService;
  beforeAll(() => {
    store = h.store;
    service = new RunService({
      store,
      clock,
      policyFor: () => policy,
      groupsOf: () => [],
      connectorFor: () => {
        throw new Error('no connection is needed to vote or unlock');
      },
    });
  });
  const { created, running, types } = h;
  const forced = async (runId: string) => (await types(runId)).filter((t) => t === 'lock:force-released');

  test('forceReleaseLock refuses while the run executes with a live lease, and changes nothing', async () => {
    const run = await running('w1', 60_000);
    const lock = await store.getLock(run.cluster);
    expect(await store.forceReleaseLock(run.cluster, 'U-admin', 'looks stuck')).toEqual({
      ok: false,
      reason: 'executing',
      lock,
      run: { id: run.id, state: 'running', owner: 'w1', leaseUntil: run.leaseUntil },
    });
    expect(await store.getLock(run.cluster)).toEqual(lock);
    expect(await forced(run.id)).toEqual([]);

    must(await store.applyEvent(run.id, 'fail', { actor: 'w1', owner: 'w1' }));
    const undoing = must(
      await store.applyEvent(run.id, 'rollback', { actor: 'w2', claim: { owner: 'w2', leaseMs: 60_000 } }),
    );
    expect(await store.forceReleaseLock(run.cluster, 'U-admin', 'looks stuck')).toMatchObject({
      ok: false,
      reason: 'executing',
      run: { id: run.id, state: 'rolling_back', owner: 'w2', leaseUntil: undoing.leaseUntil },
    });
    expect((await store.getLock(run.cluster))?.runId).toBe(run.id);
  });

  test('forceReleaseLock releases a lock whose run is not executing, or whose lease expired', async () => {
    const brief = await running('w-gone', 30);
    await clock.sleep(120);
    expect(await store.forceReleaseLock(brief.cluster, 'U-admin', 'worker died')).toMatchObject({
      ok: true,
      released: { runId: brief.id },
    });
    expect(await forced(brief.id)).toHaveLength(1);
    const waiting = await created();
    expect((await store.forceReleaseLock(waiting.cluster, 'U-admin', 'abandoned')).ok).toBe(true);
    expect(await store.getLock(waiting.cluster)).toBeUndefined();
  });

  test('unlock through the service: refused with the run, its state, owner and what to do', async () => {
    const run = await running('w1', 60_000);
    const r = await service.forceUnlock(run.cluster, 'U-admin', 'looks stuck');
    expect(r).toEqual({
      ok: false,
      failure: {
        code: 'run-executing',
        message: expect.stringContaining(`held by run ${run.id}, which is running on w1`),
        hint: expect.stringContaining(`/kingbase cancel ${run.id}`),
      },
    });
    expect((await store.getLock(run.cluster))?.runId).toBe(run.id);
    const audits = (await store.events({ runId: run.id })).filter((e) => e.event.type === 'audit');
    expect(audits.at(-1)?.event).toMatchObject({ action: 'unlock-refused', data: { owner: 'w1' } });
  });

  test('cancel-then-unlock waits for the worker to stop, and gives up (lock kept) when it does not', async () => {
    const run = await running('w1', 60_000);
    await store.updateRun(run.id, 'w1', { nextStep: 2 }); // it changed the cluster: cancelled keeps the lock
    // The worker: sees the cancel request at its next poll and stops there.
    const worker = (async () => {
      for (let i = 0; i < 100; i++) {
        if ((await store.getRun(run.id))?.cancelRequested) break;
        await clock.sleep(10);
      }
      await clock.sleep(50);
      must(await store.applyEvent(run.id, 'cancel', { actor: 'w1', owner: 'w1' }));
    })();
    const r = await service.cancelAndUnlock(run.cluster, 'U-admin', 'stop it', { waitMs: 5000, pollMs: 10 });
    await worker;
    expect(r).toMatchObject({ ok: true, released: { runId: run.id } });
    expect((await store.getRun(run.id))?.state).toBe('cancelled');
    expect(await store.getLock(run.cluster)).toBeUndefined();
    expect(await forced(run.id)).toHaveLength(1);

    const stubborn = await running('w-deaf', 60_000);
    const started = Date.now();
    const late = await service.cancelAndUnlock(stubborn.cluster, 'U-admin', 'stop it', {
      waitMs: 150,
      pollMs: 10,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(late).toMatchObject({ ok: false, failure: { code: 'still-executing' } });
    expect((await store.getLock(stubborn.cluster))?.runId).toBe(stubborn.id);
    expect((await store.getRun(stubborn.id))?.cancelRequested).toBe(true);
  });

  test('two approvals at the same moment are both counted (50 times): the run always ends approved', async () => {
    for (let i = 0; i < 50; i++) {
      const run = await created();
      const votes = await Promise.all([
        service.vote(run.id, 'U-a', 'approve', run.plan.hash),
        service.vote(run.id, 'U-b', 'approve', run.plan.hash),
      ]);
      expect(votes.map((v) => v.ok)).toEqual([true, true]);
      const after = await store.getRun(run.id);
      expect([i, after?.state]).toEqual([i, 'approved']);
      expect((await store.approvals(run.id)).map((a) => a.userId).sort()).toEqual(['U-a', 'U-b']);
      expect((await types(run.id)).filter((t) => t === 'state:approve')).toHaveLength(1);
      expect(after?.meta.approvedBy).toHaveLength(2);
    }
  });

  test('castVote: a refused vote stores nothing; a repeat is refused; vote and move share one transaction', async () => {
    const run = await created();
    const refused = await store.castVote(run.id, () => ({
      ok: false,
      failure: { code: 'nope', message: 'not you' },
    }));
    expect(refused).toEqual({ ok: false, failure: { code: 'nope', message: 'not you' } });
    expect(await store.approvals(run.id)).toEqual([]);
    const record = { userId: 'U-a', planHash: run.plan.hash, decision: 'approve' as const };
    const seen: number[] = [];
    const first = await store.castVote(run.id, (current, existing) => {
      seen.push(existing.length);
      expect(current.id).toBe(run.id);
      return { ok: true, record, move: { event: 'approve', reason: 'enough' } };
    });
    expect(first).toMatchObject({ ok: true, run: { state: 'approved' } });
    const again = await store.castVote(run.id, (_, existing) => {
      seen.push(existing.length);
      return { ok: true, record };
    });
    expect(again).toMatchObject({ ok: false, failure: { code: 'already-approved' } });
    expect(seen).toEqual([0, 1]);
    expect((await types(run.id)).slice(-2)).toEqual(['approval', 'state:approve']);
    expect(await store.castVote('no-such-run', () => ({ ok: true, record }))).toMatchObject({
      ok: false,
      failure: { code: 'no-such-run' },
    });
  });

  test('a vote on a stored plan that no longer matches its hash is refused; rejecting it still works', async () => {
    const run = await created();
    await h.db.query(
      `UPDATE kbops_runs SET plan = jsonb_set(plan, '{steps,1,title}', '"Drop everything"') WHERE id = $1`,
      [run.id],
    );
    const r = await service.vote(run.id, 'U-a', 'approve', run.plan.hash);
    expect(r).toMatchObject({ ok: false, failure: { code: 'plan-tampered' } });
    expect(await store.approvals(run.id)).toEqual([]);
    expect((await store.getRun(run.id))?.state).toBe('awaiting_approval');
    const audits = (await store.events({ runId: run.id })).filter((e) => e.event.type === 'audit');
    expect(audits.at(-1)?.event).toMatchObject({ action: 'vote-refused', data: { code: 'plan-tampered' } });
    expect(await service.vote(run.id, 'U-a', 'reject', run.plan.hash)).toMatchObject({
      ok: true,
      run: { state: 'rejected' },
    });
  });
}
