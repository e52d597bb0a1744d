import type { Target } from '../core/plan';

// How a plan (and a reading) reaches a data node and a cluster manager: one builder each, so a pool
// is reached the same way by the facts reader, the plan and the health reading.

type NodeAddress = {
  readonly name: string;
  readonly host: string;
  readonly sshPort: number;
  readonly sqlPort: number;
};

export const targetOf = (n: NodeAddress): Target => ({
  name: n.name,
  host: n.host,
  sshPort: n.sshPort,
  sqlPort: n.sqlPort,
});

/** `pool-srv127`: the target name of the cluster manager running on data node srv127. */
export const poolTargetName = (node: string): string => `pool-${node}`;

/**
 * The cluster manager on a data node's host: SSH as to that node (its own port from the inventory),
 * SQL to the manager's listen address and pooled port.
 */
export const poolTargetOf = (
  host: NodeAddress,
  manager: { readonly node: string; readonly host: string; readonly sqlPort: number },
): Target => ({
  ...targetOf({ ...host, name: poolTargetName(manager.node), sqlPort: manager.sqlPort }),
  sqlHost: manager.host,
});
