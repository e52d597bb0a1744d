import { say, type ChatCommand } from '../../src/chatops/chatops';
import { kingbaseCommands } from '../kingbase-commands';

export const helpCommand: ChatCommand = {
  name: 'help',
  usage: 'help',
  summary: 'this list',
  run: async (ctx) => {
    const lines = kingbaseCommands().map((c) => `• \`/kingbase ${c.usage}\` — ${c.summary}`);
    await ctx.surface.ephemeral(
      ctx.actor.channel,
      ctx.actor.user,
      say(`*kbops* grows KingbaseES / PostgreSQL clusters safely.\n${lines.join('\n')}`),
    );
  },
};
