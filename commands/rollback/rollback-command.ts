import { say, type ChatCommand } from '../../src/chatops/chatops';
import { handleRunAction } from '../../src/chatops/run-actions';

export const rollbackCommand: ChatCommand = {
  name: 'rollback',
  usage: 'rollback <run>',
  summary: "undo a failed, cancelled or interrupted run's changes, newest first",
  run: async (ctx, args) => {
    if (!args[0])
      return ctx.surface.ephemeral(
        ctx.actor.channel,
        ctx.actor.user,
        say('Usage: `/kingbase rollback <run>`'),
      );
    // The same checks and effects as the button on the run's message.
    await handleRunAction('run.rollback', args[0], ctx);
  },
};
