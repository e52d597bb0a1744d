import type { Run } from '../../../src/core/run';
import type { ApplyResult } from '../../../src/ports/run-store';
import type { Db } from '../../../src/store/db';
import { migrate } from '../../../src/store/migrations';
import { SqlRunStore } from '../../../src/store/sql-run-store';
import { testPlan } from './test-plan';

export const must = (r: ApplyResult): Run => {
  if (!r.ok) throw new Error(r.reason);
  return r.run;
};

export const resetSchema = (db: Db): Promise<void> =>
  db.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');

export interface StoreHarness {
  readonly db: Db;
  readonly store: SqlRunStore;
  uid(prefix: string): string;
  /** A run awaiting approval on its own cluster (or on `cluster`). */
  created(cluster?: string, expiresAt?: string | null): Promise<Run>;
  approved(cluster?: string, expiresAt?: string | null): Promise<Run>;
  /** An approved run claimed by `owner`: the only claimable one, as each test starts from an empty schema. */
  running(owner?: string, leaseMs?: number): Promise<Run>;
  /** The run's journal as short labels: 'created', 'lock:taken', 'state:approve', … */
  types(runId: string): Promise<string[]>;
}

/**
 * Opens one Db for the enclosing describe and drops and migrates its schema before each test, so
 * claimNext, interruptOrphans and expireDue see only the test's own runs.
 */
export function storeHarness(open: () => Promise<Db>): StoreHarness {
  let db: Db | undefined;
  let store: SqlRunStore | undefined;
  let seq = 0;
  beforeAll(async () => {
    db = await open();
    store = new SqlRunStore(db);
  });
  afterAll(() => store?.close());
  beforeEach(async () => {
    await resetSchema(h.db);
    await migrate(h.db);
  });
  const h: StoreHarness = {
    get db() {
      if (!db) throw new Error('the database did not open');
      return db;
    },
    get store() {
      if (!store) throw new Error('the database did not open');
      return store;
    },
    uid: (prefix) => `${prefix}-${++seq}`,
    async created(cluster = h.uid('c'), expiresAt = null) {
      const r = await h.store.createRun({ id: h.uid('run'), plan: testPlan(cluster), expiresAt });
      if (!r.ok) throw new Error(`cluster ${cluster} is locked by ${r.lockedBy.runId}`);
      return r.run;
    },
    async approved(cluster, expiresAt) {
      const run = await h.created(cluster, expiresAt);
      return must(await h.store.applyEvent(run.id, 'approve', { actor: 'U-bob' }));
    },
    async running(owner = 'w1', leaseMs = 60_000) {
      const run = await h.approved();
      const claimed = await h.store.claimNext(owner, leaseMs);
      expect(claimed?.id).toBe(run.id);
      return claimed as Run;
    },
    async types(runId) {
      return (await h.store.events({ runId })).map((e) =>
        e.event.type === 'state'
          ? `state:${e.event.event}`
          : e.event.type === 'lock'
            ? `lock:${e.event.action}`
            : e.event.type,
      );
    },
  };
  return h;
}
