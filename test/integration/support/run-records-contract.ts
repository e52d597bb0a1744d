import { planIntact } from '../../../src/core/plan';
import type { Db } from '../../../src/store/db';
import { migrate, MIGRATIONS } from '../../../src/store/migrations';
import type { SqlRunStore } from '../../../src/store/sql-run-store';
import { must, resetSchema, type StoreHarness } from './store-harness';
import { testPlan } from './test-plan';

/** What the store keeps: schema and migrations, approvals, the journal, plans, listings, transactions. */
export function runRecordsContract(h: StoreHarness): void {
  let db: Db;
  let store: SqlRunStore;
  beforeAll(() => {
    ({ db, store } = h);
  });
  const { created } = h;

  test('migrations are idempotent, and two at once apply each version once', async () => {
    expect(await migrate(db)).toEqual([]);
    expect(await migrate(db)).toEqual([]);
    await resetSchema(db);
    const both = await Promise.all([migrate(db), migrate(db)]);
    const versions = MIGRATIONS.map((m) => m.version);
    expect(both.flat().sort((a, b) => a - b)).toEqual(versions);
    const ledger = await db.query<{ version: number }>(
      'SELECT version FROM kbops_schema_migrations ORDER BY version',
    );
    expect(ledger.rows).toEqual(versions.map((version) => ({ version })));
  });

  test('approvals are unique per run, user and plan hash', async () => {
    const run = await created();
    const vote = { runId: run.id, userId: 'U-bob', planHash: run.plan.hash, decision: 'approve' as const };
    expect(await store.recordApproval(vote)).toBe('recorded');
    expect(await store.recordApproval(vote)).toBe('duplicate');
    expect(await store.recordApproval({ ...vote, decision: 'reject' })).toBe('duplicate');
    expect(await store.recordApproval({ ...vote, planHash: 'other' })).toBe('recorded');
    expect(await store.recordApproval({ ...vote, userId: 'U-dave' })).toBe('recorded');
    const all = await store.approvals(run.id);
    expect(all.map((a) => [a.userId, a.planHash, a.decision])).toEqual([
      ['U-bob', run.plan.hash, 'approve'],
      ['U-bob', 'other', 'approve'],
      ['U-dave', run.plan.hash, 'approve'],
    ]);
    expect(new Date(all[0]?.at ?? '').toISOString()).toBe(all[0]?.at);
  });

  test('the journal is append-only, ordered and filterable', async () => {
    const a = await created('c-a');
    const b = await created('c-b');
    const audit = await store.append({
      runId: a.id,
      cluster: 'c-a',
      actor: 'U-x',
      event: { type: 'audit', action: 'note', data: { n: 1.5, s: 'é"\\', list: [null, true] } },
    });
    expect(audit).toMatchObject({
      runId: a.id,
      event: { type: 'audit', action: 'note', data: { n: 1.5, s: 'é"\\', list: [null, true] } },
    });
    await store.append({
      runId: null,
      cluster: 'c-b',
      actor: 'U-y',
      event: { type: 'audit', action: 'global' },
    });

    const all = await store.events({});
    expect(all.map((e) => e.id)).toEqual([...all.map((e) => e.id)].sort((x, y) => x - y));
    expect(all.every((e) => typeof e.id === 'number')).toBe(true);
    expect((await store.events({ runId: a.id })).every((e) => e.runId === a.id)).toBe(true);
    expect((await store.events({ cluster: 'c-b' })).map((e) => e.runId)).toEqual([b.id, b.id, null]);
    expect(await store.events({ afterId: audit.id })).toHaveLength(
      all.length - all.findIndex((e) => e.id === audit.id) - 1,
    );
    expect(await store.events({ limit: 2 })).toEqual(all.slice(0, 2));

    await expect(db.query("UPDATE kbops_events SET actor = 'mallory'")).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM kbops_events WHERE id = $1', [audit.id])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.exec('TRUNCATE kbops_events')).rejects.toThrow(/append-only/);
    expect(await store.events({})).toEqual(all);
  });

  test('plans round-trip through jsonb intact; listRuns filters and orders', async () => {
    const odd = {
      big: 2 ** 53 - 1,
      tiny: 1e-7,
      huge: 1e21,
      neg: -0.5,
      s: 'ü\n"\'\\ 🙂',
      z: {},
      e: [],
      b: 'a',
    };
    const plan = testPlan('rt', 'U-alice', odd);
    const r = await store.createRun({
      id: 'rt-1',
      plan,
      expiresAt: null,
      meta: { slack: { channel: 'C1' } },
    });
    expect(r.ok).toBe(true);
    const back = await store.getRun('rt-1');
    expect(back?.plan).toEqual(plan);
    expect(planIntact(back?.plan ?? plan)).toBe(true);
    expect(back?.meta).toEqual({ slack: { channel: 'C1' } });

    const x1 = await created('x');
    must(await store.applyEvent(x1.id, 'reject', { actor: 'U-bob' }));
    const x2 = await created('x');
    expect((await store.listRuns({ cluster: 'x' })).map((r) => r.id)).toEqual([x2.id, x1.id]);
    expect((await store.listRuns({ states: ['rejected'] })).map((r) => r.id)).toEqual([x1.id]);
    expect((await store.listRuns({ states: ['awaiting_approval', 'rejected'] })).length).toBe(3);
    expect(await store.listRuns({ limit: 1 })).toHaveLength(1);
    expect(await store.listRuns()).toHaveLength(3);
  });

  test('a transaction that throws leaves nothing behind, and the Db stays usable', async () => {
    const run = await created();
    const boom = db.transaction(async (tx) => {
      await tx.query("UPDATE kbops_runs SET state = 'approved' WHERE id = $1", [run.id]);
      await tx.query('UPDATE kbops_events SET actor = $1', ['mallory']); // the append-only trigger raises
    });
    await expect(boom).rejects.toThrow(/append-only/);
    expect((await store.getRun(run.id))?.state).toBe('awaiting_approval');
    const inside = await db.transaction(async (tx) => (await tx.query<{ n: number }>('SELECT 1 AS n')).rows);
    expect(inside).toEqual([{ n: 1 }]);
  });
}
