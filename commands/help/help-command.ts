import { say, type ChatCommand } from '../../src/chatops/chatops';
import { code, esc } from '../../src/render/slack-text';
import { kingbaseCommands } from '../kingbase-commands';

export const helpCommand: ChatCommand = {
  name: 'help',
  usage: 'help',
  summary: 'this list',
  run: async (ctx) => {
    // Usages hold <placeholders>: escaped, or Slack would read them as links.
    const lines = kingbaseCommands().map((c) => `• ${code(`/kingbase ${c.usage}`)} — ${esc(c.summary)}`);
    await ctx.surface.ephemeral(
      ctx.actor.channel,
      ctx.actor.user,
      say(`*kbops* grows KingbaseES / PostgreSQL clusters safely.\n${lines.join('\n')}`),
    );
  },
};
