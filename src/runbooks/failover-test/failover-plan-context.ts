import { posix } from 'node:path';
import { stdinSecretToPcpPass } from '../../shell/shell-command';
import { kbopsDirOf } from '../../cluster/node-paths';
import { poolTargetName } from '../../cluster/target-of';
import type { Action, Target } from '../../core/plan';
import { sha256Json } from '../../core/json';
import { poolTargetOf, targetOf } from '../../cluster/target-of';
import type { Dialect } from '../../dialects/dialect';
import type { FailoverFacts, FailoverNode } from './failover-facts';
import type { FailoverParams } from './failover-params';
import { ssh } from '../../cluster/step-builders';
import { attachUntilUp } from '../../shell/server-control';

// What every part of the failover planner works from, and the small builders both phases share.

export const RUNBOOK = { id: 'failover-test', version: 1 } as const;

/** Stands in the plan where the password goes; the executor writes the real one into the file. */
export const PASSWORD_TOKEN = '@@KBOPS_DB_PASSWORD@@';

export interface PlanContext {
  readonly params: FailoverParams;
  readonly facts: FailoverFacts;
  readonly dialect: Dialect;
  readonly requester: string;
  readonly now: Date;
}

/** Names this plan's table, markers and backups (a pure function of the plan's identity). */
export const planKeyOf = (ctx: PlanContext): string =>
  sha256Json({
    runbook: RUNBOOK.id,
    phase: ctx.params.phase,
    cluster: ctx.params.cluster.name,
    requester: ctx.requester,
    at: ctx.now.toISOString(),
    takenAt: ctx.facts.takenAt,
  }).slice(0, 12);

export const ctlOf = (d: Dialect, n: FailoverNode): string => posix.join(n.binDir, d.tools.ctl);

/** Where a node's server writes when kbops starts it (beside the cluster, not in the data directory). */
export const startLogOf = (n: FailoverNode): string =>
  posix.join(n.clusterPath, 'log', `${n.name}-kbops-start.log`);

export const markerOf = (ctx: PlanContext, n: FailoverNode, stepId: string): string =>
  posix.join(kbopsDirOf(n), `${planKeyOf(ctx)}-${stepId}.made`);

/** `<ctl> status -D <dir>`: exit 0 running, 3 stopped. */
export const statusProbe = (d: Dialect, n: FailoverNode) => ({
  kind: 'ssh' as const,
  argv: [ctlOf(d, n), 'status', '-D', n.dataDir],
});

/** A pcp_* tool for backend `index`, its password from stdin through a temporary PCPPASSFILE. */
export function pcpAction(ctx: PlanContext, tool: string, index: number, okExitCodes?: number[]): Action {
  const mgr = ctx.params.cluster.manager!;
  const m = mgr.nodes[0]!;
  return ssh(
    stdinSecretToPcpPass(m.host, m.pcpPort, mgr.pcpUser, [
      posix.join(mgr.binDir, tool),
      ...['-h', m.host, '-p', String(m.pcpPort), '-U', mgr.pcpUser, '-w', '-n', String(index)],
    ]),
    { stdinSecret: 'pcp.password', ...(okExitCodes && { okExitCodes }) },
  );
}

/** Attach backend `index` and wait until the manager shows it up (attaching again if it dropped the request). */
export function attachAction(ctx: PlanContext, index: number): Action {
  const mgr = ctx.params.cluster.manager!;
  const m = mgr.nodes[0]!;
  return ssh(
    stdinSecretToPcpPass(
      m.host,
      m.pcpPort,
      mgr.pcpUser,
      attachUntilUp(
        { attach: posix.join(mgr.binDir, 'pcp_attach_node'), info: posix.join(mgr.binDir, 'pcp_node_info') },
        { host: m.host, port: m.pcpPort, user: mgr.pcpUser },
        index,
      ),
    ),
    // On the manager's host, where the pcp tools are, whatever step's undo it is part of.
    { stdinSecret: 'pcp.password', on: poolTarget(ctx)! },
  );
}

/** The first cluster manager's target name (pool-<node>), or undefined without a manager. */
export const poolTarget = (ctx: PlanContext): string | undefined => {
  const m = ctx.params.cluster.manager?.nodes[0];
  return m && poolTargetName(m.node);
};

export function targetsOf(ctx: PlanContext): Record<string, Target> {
  const cluster = ctx.params.cluster;
  return Object.fromEntries([
    ...ctx.facts.nodes.map((n) => [n.name, targetOf(n)] as const),
    ...(cluster.manager?.nodes ?? []).map((m) => {
      const host = cluster.nodes.find((n) => n.name === m.node)!;
      return [poolTargetName(m.node), poolTargetOf(host, m)] as const;
    }),
  ]);
}

export const inRecoverySql = (d: Dialect) => ({
  kind: 'sql' as const,
  sql: `select ${d.sql.isInRecovery}() as in_recovery`,
  params: [],
});
