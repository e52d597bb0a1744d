import type { HealthLevel, LagSample } from '../core/health-levels';
import type { RunStore } from './run-store';

// What scheduled health reports keep in the state store, shared by every bot replica: one row per
// scheduled slot (the claim that makes a slot posted exactly once), the lag history the charts
// draw, and each cluster's level at the last report (so "green again" is said once).

export type SlotState = 'claimed' | 'posted' | 'failed' | 'skipped';

export interface SlotRecord {
  readonly schedule: string;
  /** The scheduled minute (UTC instant). */
  readonly slotAt: Date;
  readonly state: SlotState;
  /** The replica that claimed it last; null for a slot recorded as skipped without a claim. */
  readonly owner: string | null;
  /** Until when the claim holds; a claimed slot past it (its replica died) may be claimed again. */
  readonly leaseUntil: Date | null;
  /** Claims made so far (a failed post is claimed again, up to a limit the scheduler keeps). */
  readonly attempts: number;
  readonly note: string | null;
}

export interface ReportStore {
  /** When a bot first saw this schedule: set by the first call, returned unchanged by later ones. */
  firstSeen(schedule: string, now: Date): Promise<Date>;
  /** The schedule's slots at or after `since`, oldest first. */
  slots(schedule: string, since: Date): Promise<SlotRecord[]>;
  /**
   * Claims a slot for `owner` until `leaseUntil`. True for exactly one caller: when the slot has no
   * row yet, or its row is `claimed` with a lease that ended before `now`, or `failed`. Never true
   * for a `posted` or `skipped` slot. Increments attempts.
   */
  claimSlot(schedule: string, slotAt: Date, owner: string, now: Date, leaseUntil: Date): Promise<boolean>;
  /**
   * Extends a claim `owner` still holds (state claimed, owner = owner) to `leaseUntil`; false when it
   * no longer holds it. A replica renews while it reads and posts, so a short lease can be taken
   * over soon after a replica dies, never while one is still working.
   */
  renewSlot(schedule: string, slotAt: Date, owner: string, leaseUntil: Date): Promise<boolean>;
  /** Ends a claim `owner` holds; false (and nothing changes) when it no longer holds it. */
  finishSlot(
    schedule: string,
    slotAt: Date,
    owner: string,
    state: 'posted' | 'failed' | 'skipped',
    note?: string,
  ): Promise<boolean>;
  /** Records slots nobody will post as skipped, with why; slots that already have a row are left as they are. */
  skipSlots(schedule: string, slotAts: readonly Date[], note: string): Promise<void>;
  recordLag(samples: readonly LagSample[]): Promise<void>;
  /** The cluster's samples at or after `since`, oldest first. */
  lagHistory(cluster: string, since: Date): Promise<LagSample[]>;
  /** Deletes samples older than `before`; returns how many. */
  pruneLag(before: Date): Promise<number>;
  /** Each cluster's level in this schedule's last posted report. */
  lastLevels(schedule: string): Promise<Map<string, HealthLevel>>;
  setLevels(schedule: string, levels: ReadonlyMap<string, HealthLevel>, at: Date): Promise<void>;
}

/** The state store every front end opens: runs and reports in one database, closed together by close(). */
export type StateStore = RunStore & { readonly reports: ReportStore };
