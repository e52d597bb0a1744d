import type { ClusterHealth, NodeHealth, ReplicationHealth } from './cluster-health';

// A health report's reading of one cluster: what `/kingbase status` reads (ClusterHealth) plus what
// a morning report is judged on: timelines, replay delay, free disk, WAL archiving. Same rule as
// ClusterHealth: what could not be read is null beside the reason, never a guess.

export interface DiskFree {
  /** The directory asked about (the node's data directory). */
  readonly path: string;
  readonly totalBytes: number;
  readonly freeBytes: number;
}

/** pg_stat_archiver / sys_stat_archiver on the primary, with archive_mode. */
export interface ArchiverState {
  /** off | on | always. */
  readonly archiveMode: string;
  readonly archivedCount: number;
  readonly failedCount: number;
  readonly lastArchivedWal: string | null;
  readonly lastArchivedAt: string | null;
  readonly lastFailedWal: string | null;
  readonly lastFailedAt: string | null;
}

export interface NodeReading extends NodeHealth {
  /** Listed in the inventory (false: a backend only the pool knows, e.g. a node added since). */
  readonly inInventory: boolean;
  /** The timeline of its last checkpoint (pg_control_checkpoint); null: unknown. */
  readonly timeline: number | null;
  /**
   * A standby's replay delay: seconds since the last replayed transaction, 0 when it has replayed all
   * it received (an idle primary is not a lag). Null on a primary, or unknown.
   */
  readonly replayDelaySeconds: number | null;
  /** Free space of its data directory's file system (over SSH); null: see diskProblem. */
  readonly disk: DiskFree | null;
  readonly diskProblem: string | null;
  /** How long reading this node took, in ms (a dead node: about the per-node timeout). */
  readonly readMs: number;
}

export interface ReplicationReading extends ReplicationHealth {
  /** The primary's current position minus what it has sent this standby; null: unknown. */
  readonly sentLagBytes: number | null;
}

export interface ReportReading extends Omit<ClusterHealth, 'nodes' | 'replication'> {
  readonly nodes: readonly NodeReading[];
  readonly replication: readonly ReplicationReading[] | null;
  /** The primary's WAL archiver; null: see archiverProblem (null too when there is no primary). */
  readonly archiver: ArchiverState | null;
  readonly archiverProblem: string | null;
  /** The per-node timeout the reading was bounded by. */
  readonly nodeTimeoutMs: number;
  /** How long the whole reading took, in ms. */
  readonly readMs: number;
}
