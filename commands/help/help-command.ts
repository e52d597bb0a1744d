import type { ChatCommand } from '../../src/chatops/chatops';
import { helpMessage } from '../../src/render/help-message';

/** `/kingbase help`: every command the router routes, runbooks included, through the help builder. */
export function helpCommand(commands: () => readonly ChatCommand[]): ChatCommand {
  const self: ChatCommand = {
    name: 'help',
    usage: 'help',
    summary: 'this list',
    run: async (ctx) => {
      const all = [...commands(), self];
      await ctx.surface.ephemeral(
        ctx.actor.channel,
        ctx.actor.user,
        helpMessage(
          all.map((c) => ({ name: c.name, args: c.usage.slice(c.name.length).trim(), summary: c.summary })),
        ),
      );
    },
  };
  return self;
}
