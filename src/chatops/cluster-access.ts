import type { ClusterConfig } from '../config/normalise-inventory';
import type { RunPolicy } from '../engine/run-service';

// Who may do what on a cluster, from its inventory `access`. Every click is checked here on the
// server: anyone who can see a message can press its buttons.

export type Principals = { readonly users: readonly string[]; readonly groups: readonly string[] };
export type GroupsOf = (user: string) => readonly string[];

export const isMember = (p: Principals, user: string, groupsOf: GroupsOf): boolean =>
  p.users.includes(user) || groupsOf(user).some((g) => p.groups.includes(g));

export const canOperateIn = (cluster: ClusterConfig, channel: string): boolean =>
  cluster.access.channels.length === 0 || cluster.access.channels.includes(channel);

export function runPolicyFor(cluster: ClusterConfig): RunPolicy {
  const a = cluster.access;
  return {
    required: a.approvals,
    approvers: a.approvers,
    allowSelfApproval: a.allowSelfApproval,
    ttlMs: a.approvalTtlMinutes * 60_000,
    autoRollback: a.autoRollback,
    admins: a.admins,
  };
}
