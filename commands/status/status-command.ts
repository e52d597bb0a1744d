import { ClusterConnector } from '../../src/adapters/cluster-connector';
import { say, type ChatCommand } from '../../src/chatops/chatops';
import { dialectFor } from '../../src/dialects/dialect-for';
import { parsePoolNodes, poolNodesProbe } from '../../src/probes/pool-nodes';
import { parseReplication, replicationSql } from '../../src/probes/replication';

export const statusCommand: ChatCommand = {
  name: 'status',
  usage: 'status [cluster]',
  summary: 'pool nodes and replication of a cluster',
  run: async (ctx, args) => {
    const { channel, user } = ctx.actor;
    const names = args[0] ? [args[0]] : Object.keys(ctx.deps.inventory.clusters);
    const out: string[] = [];
    for (const name of names) {
      const cluster = ctx.deps.inventory.clusters[name];
      if (!cluster) {
        out.push(`No cluster \`${name.slice(0, 63)}\`.`);
        continue;
      }
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
            out.push(`• node ${p.nodeId} ${p.hostname}:${p.port} ${p.status} ${p.role} weight ${p.lbWeight}`);
        if (rep.ok)
          for (const r of rep.value) out.push(`• ${r.applicationName} ${r.state} replay ${r.replay ?? '?'}`);
      } catch (err) {
        out.push(`*${name}*: cannot read it now (${(err as Error).message})`);
      } finally {
        await c.close();
      }
    }
    await ctx.surface.ephemeral(channel, user, say(out.join('\n')));
  },
};
