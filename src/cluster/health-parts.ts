import { posix } from 'node:path';
import {
  clusterPathFor,
  type ClusterConfig,
  type ManagerNodeConfig,
  type NodeConfig,
} from '../config/normalise-inventory';
import type { Target } from '../core/plan';
import type { Dialect } from '../dialects/dialect';
import type { NodeHealth, PoolHealth, ReplicationHealth } from '../probes/cluster-health';
import { parsePoolNodes, poolNodesProbe } from '../probes/pool-nodes';
import type { Row, SqlProbe } from '../probes/probe';
import {
  hasReplayLag,
  parseReplayLag,
  parseReplication,
  replayLagSql,
  replicationSql,
} from '../probes/replication';
import { parseSlots, slotsSql, type ReplicationSlot } from '../probes/slots';
import {
  currentWalPositionSql,
  lsnDiff,
  parsePosition,
  parseWalPosition,
  walPositionSql,
} from '../probes/wal-position';
import { errorText } from './cluster-reader';
import { DeadlineError } from './deadline';
import { defaultNodeName } from './node-paths';
import { poolTargetOf, targetOf } from './target-of';

// The pieces of a cluster reading shared by `/kingbase status` (readClusterHealth) and the health
// reports (readReportReading): each reads one thing through any reader of rows (ClusterReader, or a
// BoundedReader under a deadline) and turns what does not answer into null beside the reason.

export interface SqlRows {
  readonly dialect: Dialect;
  rows(target: Target, probe: SqlProbe): Promise<Row[]>;
}

/** Whether the node answers SQL, and its role and own WAL position. */
export async function readNode(r: SqlRows, n: NodeConfig): Promise<NodeHealth> {
  const base = { name: n.name, host: n.host, sqlPort: n.sqlPort };
  let rows;
  try {
    rows = await r.rows(targetOf(n), walPositionSql(r.dialect));
  } catch (err) {
    return { ...base, reachable: false, role: 'unknown', walPosition: null, problem: errorText(err) };
  }
  const p = parseWalPosition(rows);
  if (!p.ok) return { ...base, reachable: true, role: 'unknown', walPosition: null, problem: p.reason };
  return {
    ...base,
    reachable: true,
    role: p.value.inRecovery ? 'standby' : 'primary',
    walPosition: p.value.position,
    problem: null,
  };
}

/** `show pool_nodes` through one cluster manager. */
export async function readPool(
  r: SqlRows,
  cluster: ClusterConfig,
  mn: ManagerNodeConfig,
): Promise<PoolHealth> {
  const base = { node: mn.node, host: mn.host, sqlPort: mn.sqlPort };
  const node = cluster.nodes.find((n) => n.name === mn.node);
  if (!node) return { ...base, poolNodes: null, problem: `no data node named ${mn.node} runs this manager` };
  try {
    const p = parsePoolNodes(await r.rows(poolTargetOf(node, mn), poolNodesProbe));
    return p.ok
      ? { ...base, poolNodes: p.value, problem: null }
      : { ...base, poolNodes: null, problem: p.reason };
  } catch (err) {
    const where = `pool on ${mn.host}:${mn.sqlPort}`;
    return {
      ...base,
      poolNodes: null,
      problem:
        err instanceof DeadlineError
          ? `${where} ${err.message}`
          : `${where} did not answer: ${errorText(err)}`,
    };
  }
}

export interface ReplicationRead {
  readonly replication: ReplicationHealth[] | null;
  readonly problem: string | null;
  /** The primary's position the lags were measured from (read after the standbys); null: unknown. */
  readonly current: string | null;
}

/** The primary's standbys, each with its lag; the current position is read after them, so no lag is negative. */
export async function readReplication(r: SqlRows, t: Target): Promise<ReplicationRead> {
  const d = r.dialect;
  let rows;
  try {
    rows = await r.rows(t, replicationSql(d));
  } catch (err) {
    return {
      replication: null,
      problem: `cannot read ${d.sql.statReplication} on ${t.name}: ${errorText(err)}`,
      current: null,
    };
  }
  const entries = parseReplication(rows, d);
  if (!entries.ok) return { replication: null, problem: entries.reason, current: null };
  const problems: string[] = [];
  let lags: Map<number, number | null> | null = null;
  if (hasReplayLag(rows)) {
    try {
      const p = parseReplayLag(await r.rows(t, replayLagSql(d)));
      if (p.ok) lags = p.value;
      else problems.push(`replay lag in seconds unknown: ${p.reason}`);
    } catch (err) {
      problems.push(`replay lag in seconds unknown: ${errorText(err)}`);
    }
  }
  let current: string | null = null;
  try {
    const p = parsePosition(await r.rows(t, currentWalPositionSql(d)));
    if (p.ok) current = p.value;
    else problems.push(`lag in bytes unknown: ${p.reason}`);
  } catch (err) {
    problems.push(`lag in bytes unknown: the primary's WAL position could not be read: ${errorText(err)}`);
  }
  const replication = entries.value.map((e): ReplicationHealth => {
    const bytes = current !== null && e.replay !== null ? lsnDiff(current, e.replay) : null;
    return {
      applicationName: e.applicationName,
      clientAddr: e.clientAddr,
      state: e.state,
      syncState: e.syncState,
      sent: e.sent,
      replay: e.replay,
      lagBytes: bytes === null ? null : Number(bytes),
      lagSeconds: lags?.get(e.pid) ?? null,
    };
  });
  return { replication, problem: problems.length > 0 ? problems.join('; ') : null, current };
}

export async function readSlots(
  r: SqlRows,
  t: Target,
): Promise<{ slots: ReplicationSlot[] | null; problem: string | null }> {
  try {
    const p = parseSlots(await r.rows(t, slotsSql(r.dialect)));
    return p.ok ? { slots: p.value, problem: null } : { slots: null, problem: p.reason };
  } catch (err) {
    return { slots: null, problem: `cannot read the slots on ${t.name}: ${errorText(err)}` };
  }
}

/** Why no single primary was found. */
export function noPrimary(nodes: readonly NodeHealth[]): string {
  const primaries = nodes.filter((n) => n.role === 'primary');
  if (primaries.length > 1)
    return `${primaries.length} nodes say they are the primary (${primaries.map((n) => n.name).join(', ')})`;
  const unknown = nodes.filter((n) => n.role === 'unknown');
  return unknown.length > 0
    ? `no node says it is the primary (${unknown.map((n) => n.name).join(', ')} could not tell)`
    : 'no node says it is the primary';
}

/** The pools' backends no inventory node stands for, named as add-node names them (srv + last number). */
export function addedNodes(cluster: ClusterConfig, pools: readonly PoolHealth[]): NodeConfig[] {
  const template = cluster.nodes[0];
  if (!template) return [];
  const out: NodeConfig[] = [];
  for (const p of pools.flatMap((pool) => pool.poolNodes ?? [])) {
    const known = [...cluster.nodes, ...out].some((n) => n.host === p.hostname && n.sqlPort === p.port);
    if (known) continue;
    const name = defaultNodeName(p.hostname);
    const clusterPath = clusterPathFor(cluster.clusterPath, name);
    out.push({
      ...template,
      name,
      host: p.hostname,
      sqlPort: p.port,
      clusterPath,
      dataDir: posix.join(clusterPath, 'db', 'data'),
      binDir: posix.join(clusterPath, 'db', 'bin'),
      hostKeys: [],
    });
  }
  return out;
}
