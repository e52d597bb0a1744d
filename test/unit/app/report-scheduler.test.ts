import type { ReportSchedule } from '../../../src/config/normalise-inventory';
import { DEFAULT_THRESHOLDS } from '../../../src/core/health-levels';
import {
  ReportScheduler,
  type PostGuard,
  type ReportPublisher,
  type SlotPlan,
} from '../../../src/app/report-scheduler';
import { MemoryReportStore } from './memory-report-store';

// The scheduler's promises, on a clock the test moves: each slot posted by exactly one replica,
// a dead replica's slot taken over after its lease, slots missed while no bot ran posted late once
// (the older ones named as skipped) or skipped with a note, failed posts tried again.

const schedule = (over: Partial<ReportSchedule> = {}): ReportSchedule => ({
  name: 'minutely',
  cron: '* * * * *',
  timezone: 'UTC',
  channel: 'C0REPORTS',
  clusters: ['lab'],
  lateLimitMinutes: 60,
  charts: 'none',
  nodeTimeoutMs: 1000,
  thresholds: DEFAULT_THRESHOLDS,
  ...over,
});

class TestClock {
  constructor(public t: number) {}
  now = (): Date => new Date(this.t);
  sleep = (): Promise<void> => Promise.resolve();
  at(iso: string): void {
    this.t = Date.parse(iso);
  }
}

const hung: (() => void)[] = [];
afterAll(() => hung.forEach((release) => release()));

interface Posted {
  readonly owner: string;
  readonly plan: SlotPlan;
}

function publisher(
  owner: string,
  posts: Posted[],
  notes: string[],
  behave: { fail?: number; hang?: boolean } = {},
) {
  let failures = behave.fail ?? 0;
  const p: ReportPublisher = {
    publish: async (_s, plan, guard: PostGuard) => {
      // A replica killed mid-report: it never gets further (released when the test ends).
      if (behave.hang) return new Promise<void>((resolve) => hung.push(resolve));
      await guard.beforePost();
      if (failures > 0) {
        failures -= 1;
        throw new Error('channel_not_found');
      }
      posts.push({ owner, plan });
      await guard.posted();
    },
    skipNote: (_s, slotAt, late) => {
      notes.push(`${owner} ${slotAt.toISOString()} ${late}`);
      return Promise.resolve();
    },
  };
  return p;
}

function scheduler(
  store: MemoryReportStore,
  clock: TestClock,
  owner: string,
  pub: ReportPublisher,
  s: ReportSchedule = schedule(),
  errors: string[] = [],
) {
  return new ReportScheduler({
    schedules: [s],
    store,
    publisher: pub,
    owner,
    clock,
    onError: (what, err) => errors.push(`${what}: ${(err as Error).message}`),
    leaseMs: 30_000,
    fire: false,
  });
}

const slotTimes = (posts: readonly Posted[]) => posts.map((p) => p.plan.slotAt.toISOString().slice(11, 16));

describe('ReportScheduler', () => {
  it('posts each minute exactly once when two replicas tick at the same moments', async () => {
    const store = new MemoryReportStore();
    const clock = new TestClock(Date.parse('2026-12-02T10:00:05Z'));
    const posts: Posted[] = [];
    const a = scheduler(store, clock, 'A', publisher('A', posts, []));
    const b = scheduler(store, clock, 'B', publisher('B', posts, []));
    for (let m = 0; m < 5; m++) {
      clock.t = Date.parse('2026-12-02T10:00:05Z') + m * 60_000;
      await Promise.all([a.tickAll(), b.tickAll(), a.tickAll()]);
      clock.t += 20_000;
      await Promise.all([b.tickAll(), a.tickAll()]);
    }
    expect(slotTimes(posts)).toEqual(['10:00', '10:01', '10:02', '10:03', '10:04']);
    expect(posts.every((p) => p.plan.lateByMinutes === null && p.plan.skipped.length === 0)).toBe(true);
    expect(new Set(posts.map((p) => p.owner)).size).toBeGreaterThanOrEqual(1);
  });

  it("takes over a dead replica's slot once its lease ends, never before", async () => {
    const store = new MemoryReportStore();
    const clock = new TestClock(Date.parse('2026-12-02T10:00:01Z'));
    const posts: Posted[] = [];
    const dead = scheduler(store, clock, 'DEAD', publisher('DEAD', posts, [], { hang: true }));
    void dead.tickAll();
    await new Promise((r) => setImmediate(r));
    const live = scheduler(store, clock, 'LIVE', publisher('LIVE', posts, []));
    clock.at('2026-12-02T10:00:25Z');
    await live.tickAll();
    expect(posts).toEqual([]);
    clock.at('2026-12-02T10:00:32Z');
    await live.tickAll();
    expect(posts.map((p) => `${p.owner} ${p.plan.slotAt.toISOString()}`)).toEqual([
      'LIVE 2026-12-02T10:00:00.000Z',
    ]);
    await live.tickAll();
    expect(posts).toHaveLength(1);
  });

  it('posts the newest slot missed while no bot ran, late, naming the older ones as skipped', async () => {
    const store = new MemoryReportStore();
    const clock = new TestClock(Date.parse('2026-12-02T08:00:02Z'));
    const posts: Posted[] = [];
    const s = schedule({ name: 'quarterly', cron: '*/15 * * * *' });
    await scheduler(store, clock, 'A', publisher('A', posts, []), s).tickAll();
    // Down from 08:01 to 08:52: 08:15, 08:30 and 08:45 pass unposted.
    clock.at('2026-12-02T08:52:10Z');
    await scheduler(store, clock, 'B', publisher('B', posts, []), s).tickAll();
    expect(slotTimes(posts)).toEqual(['08:00', '08:45']);
    expect(posts[1]!.plan.lateByMinutes).toBe(7);
    expect(posts[1]!.plan.skipped.map((d) => d.toISOString().slice(11, 16))).toEqual(['08:30', '08:15']);
    const rows = await store.slots('quarterly', new Date('2026-12-02T08:00:00Z'));
    expect(rows.map((r) => `${r.slotAt.toISOString().slice(11, 16)} ${r.state}`)).toEqual([
      '08:00 posted',
      '08:15 skipped',
      '08:30 skipped',
      '08:45 posted',
    ]);
  });

  it('skips a slot later than lateLimitMinutes with one note, and never counts slots before the schedule existed', async () => {
    const store = new MemoryReportStore();
    const clock = new TestClock(Date.parse('2026-12-02T06:59:00Z'));
    const posts: Posted[] = [];
    const notes: string[] = [];
    const s = schedule({ name: 'morning', cron: '0 7 * * *', lateLimitMinutes: 30 });
    await scheduler(store, clock, 'A', publisher('A', posts, notes), s).tickAll();
    expect(posts).toEqual([]);
    clock.at('2026-12-02T08:10:00Z');
    const b = scheduler(store, clock, 'B', publisher('B', posts, notes), s);
    await b.tickAll();
    await b.tickAll();
    expect(posts).toEqual([]);
    expect(notes).toEqual(['B 2026-12-02T07:00:00.000Z 70']);
    // A schedule first seen after its slot: no report for before it existed.
    const fresh = new MemoryReportStore();
    clock.at('2026-12-02T07:20:00Z');
    await scheduler(fresh, clock, 'C', publisher('C', posts, notes), s).tickAll();
    expect(posts).toEqual([]);
    expect(notes).toHaveLength(1);
  });

  it('tries a failed post again, up to maxAttempts, then leaves it failed', async () => {
    const store = new MemoryReportStore();
    const clock = new TestClock(Date.parse('2026-12-02T10:00:01Z'));
    const posts: Posted[] = [];
    const errors: string[] = [];
    const a = scheduler(store, clock, 'A', publisher('A', posts, [], { fail: 1 }), schedule(), errors);
    await a.tickAll();
    expect(posts).toEqual([]);
    expect(errors).toEqual(['report minutely at 2026-12-02T10:00:00.000Z: channel_not_found']);
    clock.at('2026-12-02T10:00:11Z');
    await a.tickAll();
    expect(slotTimes(posts)).toEqual(['10:00']);
    const never = scheduler(
      store,
      clock,
      'B',
      publisher('B', posts, [], { fail: 99 }),
      schedule({ name: 'x' }),
      errors,
    );
    for (let i = 0; i < 5; i++) await never.tickAll();
    const rows = await store.slots('x', new Date(0));
    expect(rows.map((r) => `${r.state} ${r.attempts}`)).toEqual(['failed 3']);
  });

  it('does not post when another replica took the claim over while it was reading', async () => {
    const store = new MemoryReportStore();
    const clock = new TestClock(Date.parse('2026-12-02T10:00:01Z'));
    const posts: Posted[] = [];
    const slow: ReportPublisher = {
      publish: async (_s, plan, guard) => {
        // Reading took longer than the lease, and renewals were lost: someone else claimed it.
        clock.at('2026-12-02T10:00:40Z');
        await store.claimSlot('minutely', plan.slotAt, 'OTHER', clock.now(), new Date(clock.t + 30_000));
        await guard.beforePost();
        posts.push({ owner: 'SLOW', plan });
        await guard.posted();
      },
      skipNote: () => Promise.resolve(),
    };
    const errors: string[] = [];
    await scheduler(store, clock, 'SLOW', slow, schedule(), errors).tickAll();
    expect(posts).toEqual([]);
    expect(errors[0]).toContain('was taken over');
  });
});
