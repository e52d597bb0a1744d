import type { ClusterConfig } from '../config/normalise-inventory';
import type { Dialect } from '../dialects/dialect';
import type { Connector } from '../ports/connector';
import type { ClusterHealth } from '../probes/cluster-health';
import { ClusterReader } from './cluster-reader';
import { addedNodes, noPrimary, readNode, readPool, readReplication, readSlots } from './health-parts';
import { targetOf } from './target-of';

// One read-only reading of a cluster: each node's reachability and role, the primary's standbys
// with their lag, its slots, and every cluster manager's view of its backends. Nodes and managers
// are read side by side, so one that hangs costs its own timeout, not the sum. What cannot be read
// is null with the reason (src/probes/cluster-health.ts); this never throws for a silent host.
// The health reports read more, under a per-node deadline: read-report-reading.ts.

export interface HealthContext {
  readonly dialect: Dialect;
  /** Read-only use only. The caller closes it. */
  readonly connector: Connector;
  readonly now: Date;
}

export async function readClusterHealth(cluster: ClusterConfig, ctx: HealthContext): Promise<ClusterHealth> {
  const r = new ClusterReader(ctx.connector, ctx.dialect);
  const readAt = ctx.now.toISOString();
  const manager = cluster.manager;
  const [inventoried, pools] = await Promise.all([
    Promise.all(cluster.nodes.map((n) => readNode(r, n))),
    manager ? Promise.all(manager.nodes.map((mn) => readPool(r, cluster, mn))) : Promise.resolve([]),
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
