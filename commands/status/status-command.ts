import { ClusterConnector } from '../../src/adapters/cluster-connector';
import { refuse, say, type ChatCommand } from '../../src/chatops/chatops';
import { clusterArg, mayRead, usageProblem } from '../../src/chatops/command-args';
import { readRefusal } from '../../src/chatops/cluster-access';
import type { ClusterConfig } from '../../src/config/normalise-inventory';
import { esc, freeText } from '../../src/render/slack-text';
import { dialectFor } from '../../src/dialects/dialect-for';
import { parsePoolNodes, poolNodesProbe } from '../../src/probes/pool-nodes';
import { parseReplication, replicationSql } from '../../src/probes/replication';

const USAGE = 'status [cluster]';

export const statusCommand: ChatCommand = {
  name: 'status',
  usage: USAGE,
  summary: 'pool nodes and replication of a cluster',
  run: async (ctx, args) => {
    const { channel, user } = ctx.actor;
    if (args.length > 1) return usageProblem(ctx, 'status takes at most one cluster', USAGE);
    let clusters: ClusterConfig[];
    if (args[0] !== undefined) {
      const c = clusterArg(ctx, args[0]);
      if (!c.ok) return usageProblem(ctx, c.problem, USAGE);
      if (!(await mayRead(ctx, c.value, 'status'))) return;
      clusters = [c.value];
    } else {
      // Every cluster: only those this person may read here.
      clusters = Object.values(ctx.deps.inventory.clusters).filter(
        (c) => readRefusal(c, user, channel, ctx.deps.groupsOf) === undefined,
      );
      if (clusters.length === 0)
        return refuse(ctx, '-', 'status', 'You may not see the status of any cluster here.');
    }
    const out: string[] = [];
    for (const cluster of clusters) {
      const name = esc(cluster.name);
      const d = dialectFor(cluster.dialect);
      const c = new ClusterConnector(cluster, ctx.deps.env);
      try {
        const m = cluster.manager?.nodes[0];
        const node = cluster.nodes[0]!;
        const poolRows = m
          ? await (
              await c.sql({ name: 'pool', host: m.host, sshPort: 22, sqlPort: m.sqlPort })
            ).query(poolNodesProbe.sql)
          : undefined;
        const pool = poolRows ? parsePoolNodes(poolRows.rows) : undefined;
        const rep = parseReplication((await (await c.sql({ ...node })).query(replicationSql(d).sql)).rows, d);
        out.push(`*${name}* (${cluster.dialect})`);
        if (pool?.ok)
          for (const p of pool.value)
            out.push(
              esc(`• node ${p.nodeId} ${p.hostname}:${p.port} ${p.status} ${p.role} weight ${p.lbWeight}`),
            );
        if (rep.ok)
          for (const r of rep.value)
            out.push(esc(`• ${r.applicationName} ${r.state} replay ${r.replay ?? '?'}`));
      } catch (err) {
        out.push(`*${name}*: cannot read it now (${freeText((err as Error).message)})`);
      } finally {
        await c.close();
      }
    }
    await ctx.surface.ephemeral(channel, user, say(out.join('\n')));
  },
};
