import { say, type ChatCommand } from '../../src/chatops/chatops';
import { renderPlan } from '../../src/core/render-plan';

export const showCommand: ChatCommand = {
  name: 'show',
  usage: 'show <run>',
  summary: "a run's state and its full plan",
  run: async (ctx, args) => {
    const run = args[0] ? await ctx.deps.store.getRun(args[0].slice(0, 40)) : undefined;
    const { channel, user } = ctx.actor;
    if (!run)
      return ctx.surface.ephemeral(
        channel,
        user,
        say('Usage: `/kingbase show <run>` with a run id from `/kingbase runs`.'),
      );
    await ctx.surface.ephemeral(
      channel,
      user,
      say(
        `Run \`${run.id}\` is *${run.state}* (step ${run.nextStep}/${run.plan.steps.length}).\n\`\`\`${renderPlan(run.plan).slice(0, 2800)}\`\`\``,
      ),
    );
  },
};
