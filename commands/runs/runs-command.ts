import { refuse, type ChatCommand } from '../../src/chatops/chatops';
import { clusterArg, mayRead, usageProblem } from '../../src/chatops/command-args';
import { readRefusal } from '../../src/chatops/cluster-access';
import { runsMessage } from '../../src/render/runs-message';

const USAGE = 'runs [cluster]';

export const runsCommand: ChatCommand = {
  name: 'runs',
  usage: USAGE,
  summary: 'the latest runs and their states',
  run: async (ctx, args) => {
    const { channel, user } = ctx.actor;
    if (args.length > 1) return usageProblem(ctx, 'runs takes at most one cluster', USAGE);
    const now = ctx.deps.clock.now();
    if (args[0] !== undefined) {
      const c = clusterArg(ctx, args[0]);
      if (!c.ok) return usageProblem(ctx, c.problem, USAGE);
      if (!(await mayRead(ctx, c.value, 'runs'))) return;
      const runs = await ctx.deps.store.listRuns({ cluster: c.value.name, limit: 15 });
      return ctx.surface.ephemeral(channel, user, runsMessage({ runs, now, cluster: c.value.name }));
    }
    // Every cluster: only those this person may read here.
    const readable = Object.values(ctx.deps.inventory.clusters)
      .filter((c) => readRefusal(c, user, channel, ctx.deps.groupsOf) === undefined)
      .map((c) => c.name);
    if (readable.length === 0)
      return refuse(ctx, '-', 'runs', 'You may not see the runs of any cluster here.');
    const runs = (await ctx.deps.store.listRuns({ limit: 200 }))
      .filter((r) => readable.includes(r.cluster))
      .slice(0, 15);
    await ctx.surface.ephemeral(channel, user, runsMessage({ runs, now }));
  },
};
