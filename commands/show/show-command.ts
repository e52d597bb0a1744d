import { shownInput, type ChatCommand } from '../../src/chatops/chatops';
import { mayRead, runIdArg, usageProblem } from '../../src/chatops/command-args';
import { currentRoot } from '../../src/chatops/run-messages';

const USAGE = 'show <run>';

export const showCommand: ChatCommand = {
  name: 'show',
  usage: USAGE,
  summary: "a run's state, votes and buttons, posted again (only to you)",
  run: async (ctx, args) => {
    const { channel, user } = ctx.actor;
    const id = runIdArg(args[0]);
    if (!id.ok) return usageProblem(ctx, id.problem, USAGE);
    if (args.length > 1) return usageProblem(ctx, 'show takes one run id', USAGE);
    const run = await ctx.deps.store.getRun(id.value);
    const cluster = run && ctx.deps.inventory.clusters[run.cluster];
    if (!run || !cluster)
      return usageProblem(
        ctx,
        `run: there is no run ${shownInput(id.value)} (see \`/kingbase runs\`)`,
        USAGE,
      );
    if (!(await mayRead(ctx, cluster, 'show'))) return;
    // The run's root message as its thread shows it now (subject, state, preflight, votes, buttons).
    await ctx.surface.ephemeral(channel, user, await currentRoot(run, ctx.deps));
  },
};
