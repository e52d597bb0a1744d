import { refuse, say, type ChatCommand } from '../../src/chatops/chatops';
import { clusterArg, mayRead, usageProblem } from '../../src/chatops/command-args';
import { readRefusal } from '../../src/chatops/cluster-access';
import type { ClusterConfig } from '../../src/config/normalise-inventory';
import { esc, freeText, plural } from '../../src/render/slack-text';

// `/kingbase report [cluster]`: the replication health report now, posted in the channel like the
// scheduled one (one line per cluster, details and lag charts in its thread), so the people who
// will act on it see it too. Only clusters the asker may read here are reported.

const USAGE = 'report [cluster]';

export const reportCommand: ChatCommand = {
  name: 'report',
  usage: USAGE,
  summary: 'replication health report now: a line per cluster, details and lag charts in the thread',
  run: async (ctx, args) => {
    const { channel, user } = ctx.actor;
    const reporter = ctx.deps.reporter;
    if (!reporter) return refuse(ctx, '-', 'report', 'Health reports are not set up in this kbops.');
    if (args.length > 1) return usageProblem(ctx, 'report takes at most one cluster', USAGE);
    let clusters: ClusterConfig[];
    if (args[0] !== undefined) {
      const c = clusterArg(ctx, args[0]);
      if (!c.ok) return usageProblem(ctx, c.problem, USAGE);
      if (!(await mayRead(ctx, c.value, 'report'))) return;
      clusters = [c.value];
    } else {
      clusters = Object.values(ctx.deps.inventory.clusters).filter(
        (c) => readRefusal(c, user, channel, ctx.deps.groupsOf) === undefined,
      );
      if (clusters.length === 0)
        return refuse(ctx, '-', 'report', 'You may not see the health of any cluster here.');
    }
    await ctx.surface.ephemeral(
      channel,
      user,
      say(`Reading ${esc(plural(clusters.length, 'cluster'))}: the report follows in this channel.`),
    );
    try {
      await reporter.post(ctx.surface, channel, await reporter.report(clusters));
    } catch (err) {
      await ctx.surface.ephemeral(
        channel,
        user,
        say(
          `The report could not be posted here: ${freeText((err as Error).message)}. Is kbops in this channel?`,
        ),
      );
    }
  },
};
