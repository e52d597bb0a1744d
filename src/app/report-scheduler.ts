import cron from 'node-cron';
import type { ReportSchedule } from '../config/normalise-inventory';
import type { Clock } from '../ports/clock';
import type { ReportStore, SlotRecord } from '../ports/report-store';
import { cronMatcher, floorMinute, minutesLate, slotsBetween, type SlotMatcher } from './report-slots';

// Scheduled health reports, posted exactly once whatever the number of bot replicas on one state
// store. node-cron fires at each scheduled minute (in the schedule's time zone); a sweep every few
// seconds catches what firing alone would miss: a slot whose replica died mid-claim, a post that
// failed, slots that passed while no bot ran. Every slot is claimed in the store before anything is
// read or posted; the claim is a short lease renewed while the replica works, so a dead replica's
// slot is taken over within a lease, a live one's never.
//
// Slots that passed while no bot ran: the newest is posted "late by N min" when within the
// schedule's lateLimitMinutes, and the older ones are recorded skipped (the report names them);
// beyond the limit, a short note says the report was skipped instead. Left as is: a replica killed
// between Slack's answer to the root message and its write of `posted` leaves a slot another
// replica will post again (a window of one store round trip).

export interface SlotPlan {
  readonly slotAt: Date;
  /** Minutes late, when more than one. */
  readonly lateByMinutes: number | null;
  /** Older slots nobody posted, replaced by this one. */
  readonly skipped: readonly Date[];
}

/** What a publisher must call around the root message, so the claim stays true. */
export interface PostGuard {
  /** Right before the root message: renews the claim, throws when another replica took it over. */
  beforePost(): Promise<void>;
  /** Right after the root message is in the channel: the slot is done, whatever the thread does. */
  posted(): Promise<void>;
}

export interface ReportPublisher {
  /** Reads, judges and posts one report; throws when the root could not be posted (tried again). */
  publish(schedule: ReportSchedule, plan: SlotPlan, guard: PostGuard): Promise<void>;
  /** Says in the channel that a slot was skipped (too late to be worth posting). */
  skipNote(schedule: ReportSchedule, slotAt: Date, minutesLate: number): Promise<void>;
}

export interface ReportSchedulerOptions {
  readonly schedules: readonly ReportSchedule[];
  readonly store: ReportStore;
  readonly publisher: ReportPublisher;
  /** This process (the claim's owner): unique per process. */
  readonly owner: string;
  readonly clock: Clock;
  readonly onError: (what: string, err: unknown) => void;
  /** How often the sweep looks (default 10 s). */
  readonly sweepMs?: number;
  /** How long a claim holds without renewal (default 30 s); renewed every third of it. */
  readonly leaseMs?: number;
  /** Posts tried per slot before it is left failed (default 3). */
  readonly maxAttempts?: number;
  /** Whether node-cron fires at the minute (default true; the sweep alone also suffices). */
  readonly fire?: boolean;
}

/** How far back a sweep looks for slots nobody handled. */
const LOOKBACK_MS = 24 * 3600_000;

interface Lane {
  readonly schedule: ReportSchedule;
  readonly matches: SlotMatcher;
  firstSeen?: Date;
  /** Newest slot this process knows to be handled by someone: the scan starts after it. */
  settledUpTo?: Date;
  busy: Promise<void> | null;
  again: boolean;
}

export class ReportScheduler {
  private readonly lanes: Lane[];
  private readonly tasks: { stop(): void | Promise<void> }[] = [];
  private sweep: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly leaseMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly o: ReportSchedulerOptions) {
    this.lanes = o.schedules.map((schedule) => ({
      schedule,
      matches: cronMatcher(schedule.cron, schedule.timezone),
      busy: null,
      again: false,
    }));
    this.leaseMs = o.leaseMs ?? 30_000;
    this.maxAttempts = o.maxAttempts ?? 3;
  }

  start(): void {
    if (this.o.fire !== false)
      for (const lane of this.lanes)
        this.tasks.push(
          cron.schedule(lane.schedule.cron, () => this.kick(lane), {
            timezone: lane.schedule.timezone,
            name: `kbops-report-${lane.schedule.name}`,
          }),
        );
    this.sweep = setInterval(() => this.tickAll(), this.o.sweepMs ?? 10_000);
    this.sweep.unref();
    this.tickAll();
  }

  /** Stops firing and sweeping, then waits for reports in hand to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.sweep);
    for (const t of this.tasks.splice(0)) await t.stop();
    await Promise.all(this.lanes.map((l) => l.busy));
  }

  /** One pass over every schedule now; resolves when they are done (tests, and start-up). */
  async tickAll(): Promise<void> {
    await Promise.all(this.lanes.map((l) => this.kick(l)));
  }

  /** One pass at a time per schedule; a kick during a pass makes one more pass after it. */
  private kick(lane: Lane): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (lane.busy) {
      lane.again = true;
      return lane.busy;
    }
    lane.busy = (async () => {
      do {
        lane.again = false;
        try {
          await this.pass(lane);
        } catch (err) {
          this.o.onError(`report schedule ${lane.schedule.name}`, err);
        }
      } while (lane.again && !this.stopped);
    })().finally(() => (lane.busy = null));
    return lane.busy;
  }

  private unhandled(r: SlotRecord | undefined, now: Date): boolean {
    if (!r) return true;
    if (r.state === 'claimed') return r.leaseUntil !== null && r.leaseUntil.getTime() < now.getTime();
    return r.state === 'failed' && r.attempts < this.maxAttempts;
  }

  private async pass(lane: Lane): Promise<void> {
    const { schedule } = lane;
    const store = this.o.store;
    const now = this.o.clock.now();
    lane.firstSeen ??= await store.firstSeen(schedule.name, now);
    // A schedule's slots count from the minute a bot first saw it: never "missed" before it existed.
    const after = new Date(
      Math.max(
        floorMinute(lane.firstSeen).getTime() - 1,
        now.getTime() - LOOKBACK_MS,
        lane.settledUpTo?.getTime() ?? -Infinity,
      ),
    );
    const due = slotsBetween(lane.matches, after, now);
    if (due.length === 0) return;
    const oldest = due[due.length - 1]!;
    const records = new Map(
      (await store.slots(schedule.name, oldest)).map((r) => [r.slotAt.getTime(), r] as const),
    );
    const open = due.filter((s) => this.unhandled(records.get(s.getTime()), now));
    const newest = open[0];
    if (!newest) {
      if (due.every((s) => records.get(s.getTime())?.state !== 'claimed')) lane.settledUpTo = due[0];
      return;
    }
    const older = open.slice(1);
    const leaseUntil = (): Date => new Date(this.o.clock.now().getTime() + this.leaseMs);
    if (!(await store.claimSlot(schedule.name, newest, this.o.owner, now, leaseUntil()))) return;
    await this.skipOlder(schedule, older, records, newest);
    const late = minutesLate(newest, now);
    if (late > schedule.lateLimitMinutes) {
      await this.o.publisher.skipNote(schedule, newest, late);
      await store.finishSlot(schedule.name, newest, this.o.owner, 'skipped', `${late} min late`);
      return;
    }
    await this.publish(
      lane,
      { slotAt: newest, lateByMinutes: late >= 1 ? late : null, skipped: older },
      leaseUntil,
    );
  }

  private async skipOlder(
    schedule: ReportSchedule,
    older: readonly Date[],
    records: ReadonlyMap<number, SlotRecord>,
    newest: Date,
  ): Promise<void> {
    const note = `replaced by the report of ${newest.toISOString()}`;
    const never = older.filter((s) => !records.has(s.getTime()));
    if (never.length > 0) await this.o.store.skipSlots(schedule.name, never, note);
    // Slots a dead replica claimed, or whose post failed: taken over only to be closed.
    for (const s of older.filter((x) => records.has(x.getTime()))) {
      const now = this.o.clock.now();
      if (
        await this.o.store.claimSlot(
          schedule.name,
          s,
          this.o.owner,
          now,
          new Date(now.getTime() + this.leaseMs),
        )
      )
        await this.o.store.finishSlot(schedule.name, s, this.o.owner, 'skipped', note);
    }
  }

  private async publish(lane: Lane, plan: SlotPlan, leaseUntil: () => Date): Promise<void> {
    const { schedule } = lane;
    const store = this.o.store;
    let posted = false;
    let lost = false;
    const renew = setInterval(
      () => {
        if (posted) return;
        void store.renewSlot(schedule.name, plan.slotAt, this.o.owner, leaseUntil()).then(
          (held) => (lost ||= !held),
          (err: unknown) => this.o.onError(`renewing the claim of ${schedule.name}`, err),
        );
      },
      Math.max(100, Math.floor(this.leaseMs / 3)),
    );
    renew.unref();
    try {
      await this.o.publisher.publish(schedule, plan, {
        beforePost: async () => {
          const held = await store.renewSlot(schedule.name, plan.slotAt, this.o.owner, leaseUntil());
          if (lost || !held) throw new Error(`the claim of ${plan.slotAt.toISOString()} was taken over`);
        },
        posted: async () => {
          posted = true;
          await store.finishSlot(schedule.name, plan.slotAt, this.o.owner, 'posted');
        },
      });
      if (!posted) throw new Error('the report was not posted');
    } catch (err) {
      if (!posted) {
        await store.finishSlot(schedule.name, plan.slotAt, this.o.owner, 'failed', errorText(err));
        lane.again = false;
      }
      this.o.onError(`report ${schedule.name} at ${plan.slotAt.toISOString()}`, err);
    } finally {
      clearInterval(renew);
    }
  }
}

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 500);
