import { refuse, say, type ChatCommand } from '../../src/chatops/chatops';
import { clusterArg, mayRead, usageProblem } from '../../src/chatops/command-args';
import { readRefusal } from '../../src/chatops/cluster-access';
import { readClusterHealth } from '../../src/cluster/read-cluster-health';
import type { ClusterConfig } from '../../src/config/normalise-inventory';
import { dialectFor } from '../../src/dialects/dialect-for';
import { statusMessage } from '../../src/render/status-message';
import { esc, freeText } from '../../src/render/slack-text';

// `/kingbase status [cluster]`: one read-only health reading per cluster, each shown to the person
// who asked as its own message (one cluster's tables fill a message on their own). Clusters are read
// side by side, each through its own connector, closed once read.

const USAGE = 'status [cluster]';

export const statusCommand: ChatCommand = {
  name: 'status',
  usage: USAGE,
  summary: 'nodes, replication, slots and pool nodes of a cluster',
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
    const messages = await Promise.all(
      clusters.map(async (cluster) => {
        try {
          const connector = ctx.deps.connectorFor(cluster);
          try {
            const health = await readClusterHealth(cluster, {
              dialect: dialectFor(cluster.dialect),
              connector,
              now: ctx.deps.clock.now(),
            });
            return statusMessage(health);
          } finally {
            await connector.close();
          }
        } catch (err) {
          // The reading itself never throws for a silent host; this is kbops failing to try.
          return say(`*${esc(cluster.name)}*: cannot read it now (${freeText((err as Error).message)})`);
        }
      }),
    );
    for (const m of messages) await ctx.surface.ephemeral(channel, user, m);
  },
};
