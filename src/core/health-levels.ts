// The words of a replication health report, shared by the inventory (thresholds), the state store
// (lag history, last levels) and the report itself. Pure data.

/** green: nothing to do; amber: look today; red: act now. An unknown is never green. */
export type HealthLevel = 'green' | 'amber' | 'red';

export const LEVEL_RANK: Readonly<Record<HealthLevel, number>> = { green: 0, amber: 1, red: 2 };

/** `kbops report` exit codes, so it serves as a monitoring check (Nagios: 0 OK, 1 WARNING, 2 CRITICAL). */
export const LEVEL_EXIT: Readonly<Record<HealthLevel, 0 | 1 | 2>> = { green: 0, amber: 1, red: 2 };

export const worseOf = (a: HealthLevel, b: HealthLevel): HealthLevel =>
  LEVEL_RANK[a] >= LEVEL_RANK[b] ? a : b;

export interface WarnCritical {
  readonly warn: number;
  readonly critical: number;
}

export interface HealthThresholds {
  /** A standby's replay lag in bytes (primary's current position minus its replay position). */
  readonly lagBytes: WarnCritical;
  /** A standby's replay delay in seconds. */
  readonly lagSeconds: WarnCritical;
  /** WAL a slot may hold back: above it red for an inactive slot, amber for an active one. */
  readonly slotRetainedBytes: number;
  /** Free space of a data directory's file system, in percent: below it red, below twice it amber. */
  readonly minFreeDiskPercent: number;
}

export const DEFAULT_THRESHOLDS: HealthThresholds = {
  lagBytes: { warn: 16 * 1024 ** 2, critical: 256 * 1024 ** 2 },
  lagSeconds: { warn: 30, critical: 300 },
  slotRetainedBytes: 1024 ** 3,
  minFreeDiskPercent: 10,
};

/** One standby's lag at one reading: the history the lag chart draws. */
export interface LagSample {
  readonly cluster: string;
  /** The standby's application_name (its node name). */
  readonly standby: string;
  /** ISO time of the reading. */
  readonly at: string;
  readonly lagBytes: number | null;
  readonly lagSeconds: number | null;
}
