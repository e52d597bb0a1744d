import { audit, say, type ChatCommand } from '../../src/chatops/chatops';

export const unlockCommand: ChatCommand = {
  name: 'unlock',
  usage: 'unlock <cluster> [reason…]',
  summary: "admins: force a cluster's lock open (journaled)",
  run: async (ctx, args) => {
    const [cluster, ...why] = args;
    const { channel, user } = ctx.actor;
    if (!cluster)
      return ctx.surface.ephemeral(channel, user, say('Usage: `/kingbase unlock <cluster> [reason…]`'));
    const r = await ctx.deps.runs.forceUnlock(
      cluster.slice(0, 63),
      user,
      why.join(' ').slice(0, 500) || 'no reason given',
    );
    await audit(ctx, cluster, r.ok ? 'unlock' : 'unlock-refused');
    await ctx.surface.ephemeral(
      channel,
      user,
      say(r.ok ? `Unlocked ${cluster} (it was held by run \`${r.released.runId}\`).` : r.failure.message),
    );
  },
};
