import { say, type ChatCommand } from '../../src/chatops/chatops';
import { handleRunAction } from '../../src/chatops/run-actions';

export const cancelCommand: ChatCommand = {
  name: 'cancel',
  usage: 'cancel <run>',
  summary: 'stop a run at its current step (the remote command is killed)',
  run: async (ctx, args) => {
    if (!args[0])
      return ctx.surface.ephemeral(ctx.actor.channel, ctx.actor.user, say('Usage: `/kingbase cancel <run>`'));
    // The same checks and effects as the button on the run's message.
    await handleRunAction('run.cancel', args[0], ctx);
  },
};
