import { say, type ChatCommand } from '../../src/chatops/chatops';

export const runsCommand: ChatCommand = {
  name: 'runs',
  usage: 'runs [cluster]',
  summary: 'the latest runs and their states',
  run: async (ctx, args) => {
    const cluster = args[0];
    const runs = await ctx.deps.store.listRuns({ ...(cluster !== undefined && { cluster }), limit: 15 });
    const lines = runs.map(
      (r) =>
        `• \`${r.id}\` ${r.state} — ${r.plan.runbook.id} ${String(r.plan.params.host ?? '')} on ${r.cluster} by <@${r.requester}> (step ${r.nextStep}/${r.plan.steps.length})`,
    );
    await ctx.surface.ephemeral(
      ctx.actor.channel,
      ctx.actor.user,
      say(lines.length ? lines.join('\n') : 'No runs yet.'),
    );
  },
};
