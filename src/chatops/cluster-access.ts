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

/** Anyone the cluster's access lists (requesters, approvers, admins) may read its status and runs. */
export const isListed = (cluster: ClusterConfig, user: string, groupsOf: GroupsOf): boolean =>
  isMember(cluster.access.requesters, user, groupsOf) ||
  isMember(cluster.access.approvers, user, groupsOf) ||
  isMember(cluster.access.admins, user, groupsOf);

/** Why `user` may not read `cluster` in `channel` (plain text), or undefined when they may. */
export function readRefusal(
  cluster: ClusterConfig,
  user: string,
  channel: string,
  groupsOf: GroupsOf,
): string | undefined {
  if (!canOperateIn(cluster, channel)) return `${cluster.name} may be operated only in its own channels`;
  if (!isListed(cluster, user, groupsOf))
    return `you are not among the requesters, approvers or admins of ${cluster.name}`;
  return undefined;
}

/**
 * Where people cannot be told apart (the console: anyone types `as UCAROL`), whatever lets kbops
 * change a cluster or opens its lock is allowed only on clusters that allow unattended runs.
 */
export const unverifiedRefusal = (cluster: ClusterConfig, what: string): string | undefined =>
  cluster.allowUnattendedCli
    ? undefined
    : `The console cannot ${what} on ${cluster.name}: it cannot tell who is typing, and ${cluster.name} does not allow unattended runs (allowUnattendedCli). Do it in Slack.`;
