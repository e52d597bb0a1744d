import { say, shownInput, type ChatCommand } from '../../src/chatops/chatops';
import { mayRead, runIdArg, usageProblem } from '../../src/chatops/command-args';
import { renderPlan } from '../../src/core/render-plan';
import { esc } from '../../src/render/slack-text';

const USAGE = 'show <run>';

export const showCommand: ChatCommand = {
  name: 'show',
  usage: USAGE,
  summary: "a run's state and its full plan",
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
    await ctx.surface.ephemeral(
      channel,
      user,
      say(
        `Run ${shownInput(run.id)} is *${run.state}* (step ${run.nextStep}/${run.plan.steps.length}).\n\`\`\`${esc(renderPlan(run.plan).slice(0, 2800))}\`\`\``,
      ),
    );
  },
};
