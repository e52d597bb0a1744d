import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from '../../src/store/db';
import { createRunStore } from '../../src/store/create-run-store';
import { migrate } from '../../src/store/migrations';
import { PgDb } from '../../src/store/pg-db';
import { PgliteDb } from '../../src/store/pglite-db';
import { SqlRunStore } from '../../src/store/sql-run-store';
import { runLifecycleContract } from './support/run-lifecycle-contract';
import { runRecordsContract } from './support/run-records-contract';
import { resetSchema, storeHarness } from './support/store-harness';
import { testPlan } from './support/test-plan';
import { startThrowawayPostgres, type ThrowawayPostgres } from './support/throwaway-postgres';

let pg: ThrowawayPostgres | undefined;
beforeAll(async () => {
  pg = await startThrowawayPostgres();
});
afterAll(() => pg?.stop());
const pgUrl = (): string => {
  if (!pg) throw new Error('throwaway postgres did not start');
  return pg.url;
};

/** The one contract, run against each engine. */
function runStoreContract(engine: string, open: () => Promise<Db>): void {
  describe(`RunStore contract on ${engine}`, () => {
    const h = storeHarness(open);
    runLifecycleContract(h);
    runRecordsContract(h);
  });
}

runStoreContract('PostgreSQL 15', async () => PgDb.open(pgUrl()));
runStoreContract('PGlite (in memory)', () => PgliteDb.open());

/** N approved runs, one per cluster (a cluster has one lock), ready to be claimed. */
async function approvedRuns(store: SqlRunStore, prefix: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await store.createRun({
      id: `${prefix}-${i}`,
      plan: testPlan(`${prefix}-c${i}`),
      expiresAt: null,
    });
    if (!r.ok) throw new Error(`cluster locked: ${r.lockedBy.runId}`);
    const a = await store.applyEvent(r.run.id, 'approve', { actor: 'U-bob' });
    if (!a.ok) throw new Error(a.reason);
    ids.push(r.run.id);
  }
  return ids;
}

/** `workers` loops per store, each claiming until nothing is left; returns every claim as [owner, runId]. */
async function race(stores: readonly SqlRunStore[], workers: number): Promise<Array<[string, string]>> {
  const claims: Array<[string, string]> = [];
  await Promise.all(
    stores.flatMap((store, s) =>
      Array.from({ length: workers }, async (_, w) => {
        const owner = `replica${s}-w${w}`;
        for (
          let run = await store.claimNext(owner, 60_000);
          run;
          run = await store.claimNext(owner, 60_000)
        ) {
          claims.push([owner, run.id]);
        }
      }),
    ),
  );
  return claims;
}

async function expectEachClaimedOnce(
  store: SqlRunStore,
  ids: readonly string[],
  claims: ReadonlyArray<[string, string]>,
) {
  const claimed = claims.map(([, id]) => id);
  expect(new Set(claimed).size).toBe(claimed.length); // no run handed out twice
  expect([...claimed].sort()).toEqual([...ids].sort()); // and none missed
  for (const [owner, id] of claims) {
    expect(await store.getRun(id)).toMatchObject({ state: 'running', owner });
    const starts = (await store.events({ runId: id })).filter(
      (e) => e.event.type === 'state' && e.event.event === 'start',
    );
    expect(starts).toHaveLength(1);
  }
}

describe('two replicas on one PostgreSQL', () => {
  const dbs: Db[] = [];
  afterAll(async () => {
    for (const db of dbs) await db.close();
  });

  test('racing claimNext over 200 runs claim each exactly once', async () => {
    const [a, b] = [PgDb.open(pgUrl(), { max: 4 }), PgDb.open(pgUrl(), { max: 4 })];
    dbs.push(a, b);
    await resetSchema(a);
    await Promise.all([migrate(a), migrate(b)]);
    const replicas = [new SqlRunStore(a), new SqlRunStore(b)];
    const ids = await approvedRuns(replicas[0] as SqlRunStore, 'race', 200);
    const claims = await race(replicas, 4);
    await expectEachClaimedOnce(replicas[1] as SqlRunStore, ids, claims);
    expect(new Set(claims.map(([owner]) => owner.split('-')[0])).size).toBe(2); // both replicas took part
  });

  test('racing createRun on one cluster: one takes the lock, the others learn who has it', async () => {
    const [a, b] = [PgDb.open(pgUrl(), { max: 4 }), PgDb.open(pgUrl(), { max: 4 })];
    dbs.push(a, b);
    await resetSchema(a);
    await migrate(a);
    const replicas = [new SqlRunStore(a), new SqlRunStore(b)];
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (replicas[i % 2] as SqlRunStore).createRun({
          id: `rival-${i}`,
          plan: testPlan('contested'),
          expiresAt: null,
        }),
      ),
    );
    const winners = results.flatMap((r) => (r.ok ? [r.run.id] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (!r.ok) expect(r.lockedBy.runId).toBe(winners[0]);
  });
});

test('PGlite: concurrent callers in one process are serialised, each run claimed once', async () => {
  const db = await PgliteDb.open();
  try {
    // A query issued while a transaction is open waits for it to end (one connection, one mutex).
    const order: string[] = [];
    await Promise.all([
      db.transaction(async (tx) => {
        order.push('tx-begin');
        await new Promise((r) => setTimeout(r, 50));
        await tx.query('SELECT 1');
        order.push('tx-end');
      }),
      new Promise((r) => setTimeout(r, 5)).then(() => db.query('SELECT 1')).then(() => order.push('query')),
    ]);
    expect(order).toEqual(['tx-begin', 'tx-end', 'query']);

    await migrate(db);
    const stores = [new SqlRunStore(db), new SqlRunStore(db)];
    const ids = await approvedRuns(stores[0] as SqlRunStore, 'solo', 60);
    const claims = await race(stores, 3);
    await expectEachClaimedOnce(stores[0] as SqlRunStore, ids, claims);
  } finally {
    await db.close();
  }
});

describe('createRunStore', () => {
  test('PGlite in a directory keeps its runs across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kbops-state-'));
    try {
      const first = await createRunStore({ dataDir: join(dir, 'state') });
      expect((await first.createRun({ id: 'kept', plan: testPlan('p'), expiresAt: null })).ok).toBe(true);
      await first.close();
      const again = await createRunStore({ dataDir: join(dir, 'state') });
      expect((await again.getRun('kept'))?.state).toBe('awaiting_approval');
      expect((await again.getLock('p'))?.runId).toBe('kept');
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a database URL gives a migrated PostgreSQL store', async () => {
    const db = PgDb.open(pgUrl());
    await resetSchema(db);
    await db.close();
    const store = await createRunStore({ databaseUrl: pgUrl() });
    try {
      expect((await store.createRun({ id: 'url-1', plan: testPlan('q'), expiresAt: null })).ok).toBe(true);
      expect(await store.listRuns()).toHaveLength(1);
    } finally {
      await store.close();
    }
  });
});
