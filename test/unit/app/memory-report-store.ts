import type { HealthLevel, LagSample } from '../../../src/core/health-levels';
import type { ReportStore, SlotRecord } from '../../../src/ports/report-store';

// The ReportStore contract in memory, for the scheduler's unit tests (the SQL store passes the same
// rules against PGlite and PostgreSQL in test/integration/report-store.test.ts).

export class MemoryReportStore implements ReportStore {
  readonly rows = new Map<string, SlotRecord>();
  private readonly seen = new Map<string, Date>();
  private samples: LagSample[] = [];
  private readonly levels = new Map<string, Map<string, HealthLevel>>();

  private key = (schedule: string, at: Date): string => `${schedule}@${at.toISOString()}`;

  firstSeen(schedule: string, now: Date): Promise<Date> {
    if (!this.seen.has(schedule)) this.seen.set(schedule, now);
    return Promise.resolve(this.seen.get(schedule)!);
  }

  slots(schedule: string, since: Date): Promise<SlotRecord[]> {
    return Promise.resolve(
      [...this.rows.values()]
        .filter((r) => r.schedule === schedule && r.slotAt.getTime() >= since.getTime())
        .sort((a, b) => a.slotAt.getTime() - b.slotAt.getTime()),
    );
  }

  claimSlot(schedule: string, slotAt: Date, owner: string, now: Date, leaseUntil: Date): Promise<boolean> {
    const k = this.key(schedule, slotAt);
    const r = this.rows.get(k);
    const free =
      !r ||
      r.state === 'failed' ||
      (r.state === 'claimed' && r.leaseUntil !== null && r.leaseUntil.getTime() < now.getTime());
    if (!free) return Promise.resolve(false);
    this.rows.set(k, {
      schedule,
      slotAt,
      state: 'claimed',
      owner,
      leaseUntil,
      attempts: (r?.attempts ?? 0) + 1,
      note: null,
    });
    return Promise.resolve(true);
  }

  renewSlot(schedule: string, slotAt: Date, owner: string, leaseUntil: Date): Promise<boolean> {
    const k = this.key(schedule, slotAt);
    const r = this.rows.get(k);
    if (!r || r.state !== 'claimed' || r.owner !== owner) return Promise.resolve(false);
    this.rows.set(k, { ...r, leaseUntil });
    return Promise.resolve(true);
  }

  finishSlot(
    schedule: string,
    slotAt: Date,
    owner: string,
    state: 'posted' | 'failed' | 'skipped',
    note?: string,
  ): Promise<boolean> {
    const k = this.key(schedule, slotAt);
    const r = this.rows.get(k);
    if (!r || r.state !== 'claimed' || r.owner !== owner) return Promise.resolve(false);
    this.rows.set(k, { ...r, state, leaseUntil: null, note: note ?? null });
    return Promise.resolve(true);
  }

  skipSlots(schedule: string, slotAts: readonly Date[], note: string): Promise<void> {
    for (const slotAt of slotAts) {
      const k = this.key(schedule, slotAt);
      if (!this.rows.has(k))
        this.rows.set(k, {
          schedule,
          slotAt,
          state: 'skipped',
          owner: null,
          leaseUntil: null,
          attempts: 0,
          note,
        });
    }
    return Promise.resolve();
  }

  recordLag(samples: readonly LagSample[]): Promise<void> {
    this.samples.push(...samples);
    return Promise.resolve();
  }

  lagHistory(cluster: string, since: Date): Promise<LagSample[]> {
    return Promise.resolve(
      this.samples.filter((s) => s.cluster === cluster && Date.parse(s.at) >= since.getTime()),
    );
  }

  pruneLag(before: Date): Promise<number> {
    const n = this.samples.length;
    this.samples = this.samples.filter((s) => Date.parse(s.at) >= before.getTime());
    return Promise.resolve(n - this.samples.length);
  }

  lastLevels(schedule: string): Promise<Map<string, HealthLevel>> {
    return Promise.resolve(new Map(this.levels.get(schedule) ?? []));
  }

  setLevels(schedule: string, levels: ReadonlyMap<string, HealthLevel>): Promise<void> {
    this.levels.set(schedule, new Map(levels));
    return Promise.resolve();
  }
}
