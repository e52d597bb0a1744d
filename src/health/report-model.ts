import type { HealthLevel } from '../core/health-levels';
import type { ReportReading } from '../probes/report-reading';

// A replication health report as data: what src/health/assess-cluster.ts concludes from a reading,
// what the Slack builder, `kbops report` and /metrics show. Pure data, serialisable.

/** One thing worth telling: never a pass (green clusters have no findings). */
export interface Finding {
  readonly level: Exclude<HealthLevel, 'green'>;
  /** Stable kind, for JSON consumers and tests: e.g. `node-unreachable`, `slot-inactive`. */
  readonly code: FindingCode;
  /** What it is about: a node, slot or pool name (`srv2`, `slot_srv3`, `pool@srv1`), or the cluster. */
  readonly subject: string;
  /** One line a DBA understands without the manual, numbers included. */
  readonly text: string;
}

export type FindingCode =
  | 'node-unreachable'
  | 'node-unknown'
  | 'no-primary'
  | 'several-primaries'
  | 'timeline-differs'
  | 'standby-not-streaming'
  | 'standby-missing'
  | 'lag-bytes'
  | 'lag-seconds'
  | 'lag-unknown'
  | 'slot-inactive'
  | 'slot-retains'
  | 'slots-unknown'
  | 'archive-failing'
  | 'archiver-unknown'
  | 'disk-low'
  | 'disk-unknown'
  | 'pool-unreachable'
  | 'pool-says-down'
  | 'pool-wrong-primary'
  | 'pool-extra-backend'
  | 'pool-missing-node'
  | 'last-run-failed';

/** The newest finished run of one runbook on the cluster (any runbook: none is named here). */
export interface LastRun {
  readonly runbook: string;
  readonly runId: string;
  readonly state: string;
  /** ISO time it ended (its last update). */
  readonly endedAt: string;
  /** What its verdict measured, as shown (e.g. `failover time 4.2 s`). */
  readonly measures: readonly string[];
}

export interface ClusterReport {
  readonly cluster: string;
  readonly level: HealthLevel;
  /** The worst finding (red before amber, then in reading order); null when green. */
  readonly worst: Finding | null;
  /** Worst first. */
  readonly findings: readonly Finding[];
  readonly reading: ReportReading;
  readonly lastRuns: readonly LastRun[];
  /** Not green at this schedule's previous report, green now: said once. */
  readonly greenAgain: boolean;
}

export interface HealthReport {
  /** The schedule's name; null for a report asked for on demand. */
  readonly schedule: string | null;
  /** The scheduled minute (ISO); null on demand. */
  readonly slotAt: string | null;
  /** IANA time zone the times are shown in. */
  readonly timezone: string;
  readonly generatedAt: string;
  /** Minutes after its slot the report was made, when that is more than a minute (a bot was down). */
  readonly lateByMinutes: number | null;
  /** Earlier slots nobody posted (no bot was running), ISO, each skipped in favour of this one. */
  readonly skipped: readonly string[];
  /** The worst cluster level. */
  readonly level: HealthLevel;
  readonly clusters: readonly ClusterReport[];
  /** The user group (S…) a red report mentions; absent: nobody. */
  readonly mention?: string;
}
