import type { PoolNode } from './pool-nodes';
import type { ReplicationSlot } from './slots';

// One read-only reading of a cluster, as plain data (src/cluster/read-cluster-health.ts reads it;
// render and reports show it). Every part that could not be read is null beside the problem text
// saying why: nothing here is a guess, and an unknown is never shown as fine.

export type NodeRole = 'primary' | 'standby' | 'unknown';

export interface NodeHealth {
  readonly name: string;
  readonly host: string;
  readonly sqlPort: number;
  /** It answered SQL (its role and position may still be unknown: see problem). */
  readonly reachable: boolean;
  /** What the node says of itself (in recovery or not); unknown when it could not tell us. */
  readonly role: NodeRole;
  /** Its own WAL position: the current one on a primary, the last replayed one on a standby. */
  readonly walPosition: string | null;
  /** Why it did not answer, or what it answered that could not be read; null when all is known. */
  readonly problem: string | null;
}

export interface ReplicationHealth {
  readonly applicationName: string;
  readonly clientAddr: string | null;
  /** startup | catchup | streaming | backup | stopping. */
  readonly state: string;
  readonly syncState: string | null;
  readonly sent: string | null;
  readonly replay: string | null;
  /** The primary's current WAL position minus this standby's replay position; null: unknown. */
  readonly lagBytes: number | null;
  /** replay_lag in seconds; null: unknown (V8R3 has no such column; idle servers stop measuring). */
  readonly lagSeconds: number | null;
}

export interface PoolHealth {
  /** The data node whose host runs this cluster manager. */
  readonly node: string;
  readonly host: string;
  readonly sqlPort: number;
  /** `show pool_nodes` through this manager; null: see problem. */
  readonly poolNodes: readonly PoolNode[] | null;
  readonly problem: string | null;
}

export interface ClusterHealth {
  readonly cluster: string;
  readonly dialect: string;
  /** ISO time the reading started. */
  readonly readAt: string;
  readonly nodes: readonly NodeHealth[];
  /** The one node that says it is the primary; null when none or several do (see replicationProblem). */
  readonly primary: string | null;
  /** The primary's view of its standbys; null: see replicationProblem. */
  readonly replication: readonly ReplicationHealth[] | null;
  /** Why replication (or part of it, such as the lag) could not be read; null when all is known. */
  readonly replicationProblem: string | null;
  /** The primary's replication slots; null: see slotsProblem. */
  readonly slots: readonly ReplicationSlot[] | null;
  readonly slotsProblem: string | null;
  /** One per cluster manager node, in inventory order (none without a manager). */
  readonly pools: readonly PoolHealth[];
}
