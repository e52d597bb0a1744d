import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LagSample } from '../../src/core/health-levels';
import type { ReportStore } from '../../src/ports/report-store';
import { createRunStore } from '../../src/store/create-run-store';
import type { Db } from '../../src/store/db';
import { MIGRATIONS, migrate } from '../../src/store/migrations';
import { PgDb } from '../../src/store/pg-db';
import { PgliteDb } from '../../src/store/pglite-db';
import { SqlReportStore } from '../../src/store/sql-report-store';
import { SqlRunStore } from '../../src/store/sql-run-store';
import { resetSchema } from './support/store-harness';
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

const T0 = new Date('2024-05-01T06:00:00.000Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);
const slotMinutes = (n: number): Date[] => Array.from({ length: n }, (_, i) => at(i));

/** Every claimant tries every slot at once, for a 10 min lease; returns the owners that won each slot. */
async function raceClaims(
  claimants: ReadonlyArray<[ReportStore, string]>,
  slotAts: readonly Date[],
  now: Date,
): Promise<Map<number, string[]>> {
  const winners = new Map<number, string[]>(slotAts.map((s) => [s.getTime(), []]));
  await Promise.all(
    claimants.flatMap(([store, owner]) =>
      slotAts.map(async (slotAt) => {
        if (await store.claimSlot('race', slotAt, owner, now, new Date(now.getTime() + 600_000)))
          winners.get(slotAt.getTime())?.push(owner);
      }),
    ),
  );
  return winners;
}

const sample = (cluster: string, standby: string, minute: number, lagBytes: number | null): LagSample => ({
  cluster,
  standby,
  at: at(minute).toISOString(),
  lagBytes,
  lagSeconds: lagBytes === null ? null : lagBytes / 1e6,
});

function reportStoreContract(engine: string, open: () => Promise<Db>): void {
  describe(`ReportStore contract on ${engine}`, () => {
    let db: Db | undefined;
    const store = (): SqlReportStore => {
      if (!db) throw new Error('the database did not open');
      return new SqlReportStore(db);
    };
    beforeAll(async () => {
      db = await open();
    });
    afterAll(() => db?.close());
    beforeEach(async () => {
      if (!db) throw new Error('the database did not open');
      await resetSchema(db);
      await migrate(db);
    });

    test('firstSeen is set by the first call and returned unchanged after', async () => {
      const s = store();
      expect(await s.firstSeen('daily', at(5))).toEqual(at(5));
      expect(await s.firstSeen('daily', at(90))).toEqual(at(5));
      expect(await s.firstSeen('hourly', at(90))).toEqual(at(90));
    });

    test('a claimed then posted slot cannot be claimed again, by anyone', async () => {
      const s = store();
      expect(await s.claimSlot('daily', at(0), 'bot-a', at(0), at(2))).toBe(true);
      expect(await s.claimSlot('daily', at(0), 'bot-b', at(1), at(3))).toBe(false); // lease still live
      expect(await s.finishSlot('daily', at(0), 'bot-a', 'posted')).toBe(true);
      expect(await s.claimSlot('daily', at(0), 'bot-b', at(10), at(12))).toBe(false);
      expect(await s.claimSlot('daily', at(0), 'bot-a', at(10), at(12))).toBe(false);
      expect(await s.finishSlot('daily', at(0), 'bot-a', 'failed')).toBe(false); // no longer claimed
      expect(await s.slots('daily', at(0))).toEqual([
        {
          schedule: 'daily',
          slotAt: at(0),
          state: 'posted',
          owner: 'bot-a',
          leaseUntil: null,
          attempts: 1,
          note: null,
        },
      ]);
    });

    test('a renewed lease holds; only its owner renews, and not after it lost the slot', async () => {
      const s = store();
      expect(await s.claimSlot('daily', at(0), 'bot-a', at(0), at(2))).toBe(true);
      expect(await s.renewSlot('daily', at(0), 'bot-a', at(6))).toBe(true);
      expect(await s.renewSlot('daily', at(0), 'bot-b', at(9))).toBe(false);
      expect(await s.claimSlot('daily', at(0), 'bot-b', at(3), at(5))).toBe(false); // renewed to 6
      expect(await s.claimSlot('daily', at(0), 'bot-b', at(7), at(9))).toBe(true);
      expect(await s.renewSlot('daily', at(0), 'bot-a', at(12))).toBe(false);
      expect((await s.slots('daily', at(0)))[0]).toMatchObject({ owner: 'bot-b', leaseUntil: at(9) });
      expect(await s.finishSlot('daily', at(0), 'bot-b', 'posted')).toBe(true);
      expect(await s.renewSlot('daily', at(0), 'bot-b', at(12))).toBe(false);
    });

    test('a lapsed lease is claimed by another owner; the first owner can no longer finish', async () => {
      const s = store();
      expect(await s.claimSlot('daily', at(0), 'bot-a', at(0), at(2))).toBe(true);
      expect(await s.claimSlot('daily', at(0), 'bot-b', at(2), at(4))).toBe(false); // ends at 2, not before
      expect(await s.claimSlot('daily', at(0), 'bot-b', at(3), at(5))).toBe(true);
      expect(await s.finishSlot('daily', at(0), 'bot-a', 'posted')).toBe(false);
      expect((await s.slots('daily', at(0)))[0]).toMatchObject({
        state: 'claimed',
        owner: 'bot-b',
        leaseUntil: at(5),
        attempts: 2,
      });
      expect(await s.finishSlot('daily', at(0), 'bot-b', 'posted', 'late by 3 min')).toBe(true);
      expect((await s.slots('daily', at(0)))[0]).toMatchObject({
        state: 'posted',
        owner: 'bot-b',
        attempts: 2,
        note: 'late by 3 min',
      });
    });

    test('a failed slot is claimable again and attempts count; skipped is final', async () => {
      const s = store();
      for (let attempt = 1; attempt <= 3; attempt++) {
        expect(await s.claimSlot('daily', at(0), `bot-${attempt}`, at(attempt), at(attempt + 1))).toBe(true);
        expect(
          await s.finishSlot('daily', at(0), `bot-${attempt}`, 'failed', `slack said no (${attempt})`),
        ).toBe(true);
      }
      expect((await s.slots('daily', at(0)))[0]).toMatchObject({
        state: 'failed',
        owner: 'bot-3',
        attempts: 3,
        note: 'slack said no (3)',
      });
      expect(await s.claimSlot('daily', at(0), 'bot-4', at(9), at(10))).toBe(true);
      expect(await s.finishSlot('daily', at(0), 'bot-4', 'skipped', 'gave up after 4 attempts')).toBe(true);
      expect(await s.claimSlot('daily', at(0), 'bot-5', at(20), at(21))).toBe(false);
      expect((await s.slots('daily', at(0)))[0]).toMatchObject({
        state: 'skipped',
        attempts: 4,
        note: 'gave up after 4 attempts',
      });
    });

    test('skipSlots records new slots as skipped and leaves existing rows alone', async () => {
      const s = store();
      await s.skipSlots('daily', [], 'nothing');
      expect(await s.slots('daily', at(-100))).toEqual([]);
      expect(await s.claimSlot('daily', at(1), 'bot-a', at(1), at(2))).toBe(true);
      expect(await s.claimSlot('daily', at(2), 'bot-a', at(2), at(3))).toBe(true);
      expect(await s.finishSlot('daily', at(2), 'bot-a', 'posted')).toBe(true);
      await s.skipSlots('daily', [at(0), at(1), at(2), at(3), at(3)], 'no bot was running');
      const rows = await s.slots('daily', at(0));
      expect(rows.map((r) => [r.slotAt.toISOString(), r.state, r.owner, r.attempts, r.note])).toEqual([
        [at(0).toISOString(), 'skipped', null, 0, 'no bot was running'],
        [at(1).toISOString(), 'claimed', 'bot-a', 1, null],
        [at(2).toISOString(), 'posted', 'bot-a', 1, null],
        [at(3).toISOString(), 'skipped', null, 0, 'no bot was running'],
      ]);
      expect(await s.claimSlot('daily', at(3), 'bot-b', at(9), at(10))).toBe(false);
      expect(await s.finishSlot('daily', at(1), 'bot-a', 'posted')).toBe(true); // its claim survived
      expect((await s.slots('daily', at(2))).map((r) => r.slotAt)).toEqual([at(2), at(3)]); // since, inclusive
      expect(await s.slots('hourly', at(0))).toEqual([]);
    });

    test('lag history: oldest first, since inclusive, per cluster, pruned by time', async () => {
      const s = store();
      await s.recordLag([
        sample('c1', 'n2', 10, 2048),
        sample('c1', 'n3', 0, null),
        sample('c2', 'n2', 5, 1),
        sample('c1', 'n2', 0, 5 * 1024 ** 4), // 5 TiB: beyond int4, within a safe JS number
        sample('c1', 'n2', 5, 0),
      ]);
      await s.recordLag([sample('c1', 'n2', 5, 0)]); // the same reading again stays one sample
      await s.recordLag([]);
      const history = await s.lagHistory('c1', at(0));
      expect(history.map((x) => [x.at, x.standby, x.lagBytes, x.lagSeconds])).toEqual([
        [at(0).toISOString(), 'n2', 5 * 1024 ** 4, (5 * 1024 ** 4) / 1e6],
        [at(0).toISOString(), 'n3', null, null],
        [at(5).toISOString(), 'n2', 0, 0],
        [at(10).toISOString(), 'n2', 2048, 2048 / 1e6],
      ]);
      expect((await s.lagHistory('c1', at(5))).map((x) => x.at)).toEqual([
        at(5).toISOString(),
        at(10).toISOString(),
      ]);
      expect(await s.lagHistory('c2', at(0))).toEqual([sample('c2', 'n2', 5, 1)]);
      expect(await s.pruneLag(at(5))).toBe(2); // c1's two samples at minute 0
      expect(await s.pruneLag(at(5))).toBe(0);
      expect((await s.lagHistory('c1', at(-60))).map((x) => x.at)).toEqual([
        at(5).toISOString(),
        at(10).toISOString(),
      ]);
      expect(await s.lagHistory('c2', at(-60))).toHaveLength(1);
    });

    test('levels round-trip per schedule; a newer report replaces them, an older one does not', async () => {
      const s = store();
      expect(await s.lastLevels('daily')).toEqual(new Map());
      await s.setLevels(
        'daily',
        new Map([
          ['c1', 'red'],
          ['c2', 'green'],
        ]),
        at(10),
      );
      await s.setLevels('hourly', new Map([['c1', 'amber']]), at(10));
      expect(await s.lastLevels('daily')).toEqual(
        new Map([
          ['c1', 'red'],
          ['c2', 'green'],
        ]),
      );
      await s.setLevels(
        'daily',
        new Map([
          ['c1', 'green'],
          ['c3', 'amber'],
        ]),
        at(20),
      );
      expect(await s.lastLevels('daily')).toEqual(
        new Map([
          ['c1', 'green'],
          ['c3', 'amber'],
        ]),
      );
      await s.setLevels('daily', new Map([['c1', 'red']]), at(15)); // posted out of order: older
      expect(await s.lastLevels('daily')).toEqual(
        new Map([
          ['c1', 'green'],
          ['c3', 'amber'],
        ]),
      );
      expect(await s.lastLevels('hourly')).toEqual(new Map([['c1', 'amber']]));
    });

    test('claimants racing in one process: each slot won once, also after the leases lapse', async () => {
      const [a, b] = [store(), store()];
      const claimants: Array<[ReportStore, string]> = [
        [a, 'a1'],
        [a, 'a2'],
        [b, 'b1'],
        [b, 'b2'],
      ];
      const slotAts = slotMinutes(20);
      for (const now of [at(0), at(700)]) {
        const winners = await raceClaims(claimants, slotAts, now);
        for (const owners of winners.values()) expect(owners).toHaveLength(1);
      }
      expect((await a.slots('race', at(0))).map((r) => r.attempts)).toEqual(slotAts.map(() => 2));
    });

    test('a store made by migration 1 alone is migrated to 2 and keeps its runs', async () => {
      if (!db) throw new Error('the database did not open');
      await resetSchema(db);
      expect(
        await migrate(
          db,
          MIGRATIONS.filter((m) => m.version === 1),
        ),
      ).toEqual([1]);
      const runs = new SqlRunStore(db);
      expect((await runs.createRun({ id: 'old-run', plan: testPlan('kept'), expiresAt: null })).ok).toBe(
        true,
      );
      expect(await migrate(db)).toEqual([2]);
      expect(await migrate(db)).toEqual([]);
      expect((await runs.getRun('old-run'))?.state).toBe('awaiting_approval');
      expect((await runs.getLock('kept'))?.runId).toBe('old-run');
      expect(await store().claimSlot('daily', at(0), 'bot-a', at(0), at(1))).toBe(true);
    });
  });
}

reportStoreContract('PostgreSQL 15', async () => PgDb.open(pgUrl()));
reportStoreContract('PGlite (in memory)', () => PgliteDb.open());

describe('two replicas on one PostgreSQL', () => {
  test('two pools claim the same 50 slots at once: each slot won exactly once', async () => {
    const [a, b] = [PgDb.open(pgUrl(), { max: 5 }), PgDb.open(pgUrl(), { max: 5 })];
    try {
      await resetSchema(a);
      await Promise.all([migrate(a), migrate(b)]);
      const [ra, rb] = [new SqlReportStore(a), new SqlReportStore(b)];
      const claimants: Array<[ReportStore, string]> = [
        [ra, 'replica-a'],
        [rb, 'replica-b'],
      ];
      const slotAts = slotMinutes(50);
      const check = async (winners: Map<number, string[]>, attempts: number) => {
        for (const owners of winners.values()) expect(owners).toHaveLength(1);
        const rows = await rb.slots('race', at(0));
        expect(rows.map((r) => [r.slotAt.getTime(), [r.owner], r.attempts])).toEqual(
          slotAts.map((s) => [s.getTime(), winners.get(s.getTime()), attempts]),
        );
      };
      // New slots (the insert path), then the same slots once every lease lapsed (the update path),
      // then after every winner reported a failure.
      await check(await raceClaims(claimants, slotAts, at(0)), 1);
      await check(await raceClaims(claimants, slotAts, at(700)), 2);
      for (const r of await ra.slots('race', at(0)))
        expect(await ra.finishSlot('race', r.slotAt, r.owner ?? '', 'failed', 'slack 500')).toBe(true);
      await check(await raceClaims(claimants, slotAts, at(701)), 3);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('createRunStore gives runs and reports on one database', () => {
  test('embedded: reports persist across a restart and close() closes both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kbops-state-'));
    try {
      const first = await createRunStore({ dataDir: join(dir, 'state') });
      expect((await first.createRun({ id: 'r1', plan: testPlan('p'), expiresAt: null })).ok).toBe(true);
      expect(await first.reports.claimSlot('daily', at(0), 'bot-a', at(0), at(1))).toBe(true);
      expect(await first.reports.finishSlot('daily', at(0), 'bot-a', 'posted')).toBe(true);
      await first.close();
      await expect(first.reports.slots('daily', at(0))).rejects.toThrow();
      const again = await createRunStore({ dataDir: join(dir, 'state') });
      expect((await again.reports.slots('daily', at(0)))[0]?.state).toBe('posted');
      expect((await again.getRun('r1'))?.state).toBe('awaiting_approval');
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a database URL: the runs and reports of one store are those another replica sees', async () => {
    const reset = PgDb.open(pgUrl());
    await resetSchema(reset);
    await reset.close();
    const [one, two] = [
      await createRunStore({ databaseUrl: pgUrl() }),
      await createRunStore({ databaseUrl: pgUrl() }),
    ];
    try {
      expect(await one.reports.firstSeen('daily', at(0))).toEqual(at(0));
      expect(await two.reports.firstSeen('daily', at(9))).toEqual(at(0));
      expect(await one.reports.claimSlot('daily', at(0), 'one', at(0), at(1))).toBe(true);
      expect(await two.reports.claimSlot('daily', at(0), 'two', at(0), at(1))).toBe(false);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
