import { posix } from 'node:path';
import {
  clusterPathFor,
  type ClusterConfig,
  type ManagerConfig,
  type NodeConfig,
} from '../config/normalise-inventory';
import { defaultNodeName } from './node-paths';
import type { Target } from '../core/plan';
import type { Dialect } from '../dialects/dialect';
import type { Connector } from '../ports/connector';
import type { ClusterHealth, NodeHealth, PoolHealth, ReplicationHealth } from '../probes/cluster-health';
import { parsePoolNodes, poolNodesProbe } from '../probes/pool-nodes';
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
import { ClusterReader, errorText } from './cluster-reader';
import { poolTargetOf, targetOf } from './target-of';

// One read-only reading of a cluster: each node's reachability and role, the primary's standbys
// with their lag, its slots, and every cluster manager's view of its backends. Nodes and managers
// are read side by side, so one that hangs costs its own timeout, not the sum. What cannot be read
// is null with the reason (src/probes/cluster-health.ts); this never throws for a silent host.

export interface HealthContext {
  readonly dialect: Dialect;
  /** Read-only use only. The caller closes it. */
  readonly connector: Connector;
  readonly now: Date;
}

async function readNode(r: ClusterReader, n: NodeConfig): Promise<NodeHealth> {
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

async function readPools(r: ClusterReader, cluster: ClusterConfig, m: ManagerConfig): Promise<PoolHealth[]> {
  return Promise.all(
    m.nodes.map(async (mn): Promise<PoolHealth> => {
      const base = { node: mn.node, host: mn.host, sqlPort: mn.sqlPort };
      const node = cluster.nodes.find((n) => n.name === mn.node);
      if (!node)
        return { ...base, poolNodes: null, problem: `no data node named ${mn.node} runs this manager` };
      try {
        const p = parsePoolNodes(await r.rows(poolTargetOf(node, mn), poolNodesProbe));
        return p.ok
          ? { ...base, poolNodes: p.value, problem: null }
          : { ...base, poolNodes: null, problem: p.reason };
      } catch (err) {
        return {
          ...base,
          poolNodes: null,
          problem: `pool on ${mn.host}:${mn.sqlPort} did not answer: ${errorText(err)}`,
        };
      }
    }),
  );
}

/** The primary's standbys, each with its lag; the current position is read after them, so no lag is negative. */
async function readReplication(
  r: ClusterReader,
  t: Target,
): Promise<{ replication: ReplicationHealth[] | null; problem: string | null }> {
  const d = r.dialect;
  let rows;
  try {
    rows = await r.rows(t, replicationSql(d));
  } catch (err) {
    return {
      replication: null,
      problem: `cannot read ${d.sql.statReplication} on ${t.name}: ${errorText(err)}`,
    };
  }
  const entries = parseReplication(rows, d);
  if (!entries.ok) return { replication: null, problem: entries.reason };
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
  return { replication, problem: problems.length > 0 ? problems.join('; ') : null };
}

async function readSlots(
  r: ClusterReader,
  t: Target,
): Promise<{ slots: ReplicationSlot[] | null; problem: string | null }> {
  try {
    const p = parseSlots(await r.rows(t, slotsSql(r.dialect)));
    return p.ok ? { slots: p.value, problem: null } : { slots: null, problem: p.reason };
  } catch (err) {
    return { slots: null, problem: `cannot read the slots on ${t.name}: ${errorText(err)}` };
  }
}

function noPrimary(nodes: readonly NodeHealth[]): string {
  const primaries = nodes.filter((n) => n.role === 'primary');
  if (primaries.length > 1)
    return `${primaries.length} nodes say they are the primary (${primaries.map((n) => n.name).join(', ')})`;
  const unknown = nodes.filter((n) => n.role === 'unknown');
  return unknown.length > 0
    ? `no node says it is the primary (${unknown.map((n) => n.name).join(', ')} could not tell)`
    : 'no node says it is the primary';
}

/** The pools' backends no inventory node stands for, named as add-node names them (srv + last number). */
function addedNodes(cluster: ClusterConfig, pools: readonly PoolHealth[]): NodeConfig[] {
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

export async function readClusterHealth(cluster: ClusterConfig, ctx: HealthContext): Promise<ClusterHealth> {
  const r = new ClusterReader(ctx.connector, ctx.dialect);
  const readAt = ctx.now.toISOString();
  const [inventoried, pools] = await Promise.all([
    Promise.all(cluster.nodes.map((n) => readNode(r, n))),
    cluster.manager ? readPools(r, cluster, cluster.manager) : Promise.resolve([]),
  ]);
  // A backend the manager has and the inventory does not (a node added since) is a node too.
  const added = addedNodes(cluster, pools);
  const nodes = [...inventoried, ...(await Promise.all(added.map((n) => readNode(r, n))))];
  const all = [...cluster.nodes, ...added];
  const base = { cluster: cluster.name, dialect: cluster.dialect, readAt, nodes, pools };
  const primaries = nodes.filter((n) => n.role === 'primary');
  const primaryNode = primaries.length === 1 ? all.find((n) => n.name === primaries[0]!.name) : undefined;
  if (!primaryNode) {
    const why = noPrimary(nodes);
    return {
      ...base,
      primary: null,
      replication: null,
      replicationProblem: why,
      slots: null,
      slotsProblem: why,
    };
  }
  const t = targetOf(primaryNode);
  const rep = await readReplication(r, t);
  const slots = await readSlots(r, t);
  return {
    ...base,
    primary: primaryNode.name,
    replication: rep.replication,
    replicationProblem: rep.problem,
    slots: slots.slots,
    slotsProblem: slots.problem,
  };
}
