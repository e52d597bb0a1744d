import type { Inventory } from '../config/normalise-inventory';
import type { Env } from '../config/resolve-secret';
import type { Json } from '../core/json';
import type { RunService } from '../engine/run-service';
import type { Clock } from '../ports/clock';
import type { RunStore } from '../ports/run-store';
import type { Actor, ChatMessage, ChatSurface } from './chat-surface';
import type { GroupsOf } from './cluster-access';

// The `/kingbase` front end, shared by Slack and the console: a router over one command per
// folder in commands/, each thin (parse → check who may → call a service → render).

export interface ChatopsDeps {
  readonly inventory: Inventory;
  readonly env: Env;
  readonly store: RunStore;
  readonly runs: RunService;
  readonly clock: Clock;
  readonly groupsOf: GroupsOf;
}

export interface CommandContext {
  readonly deps: ChatopsDeps;
  readonly actor: Actor;
  readonly surface: ChatSurface;
}

export interface ChatCommand {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  run(ctx: CommandContext, args: readonly string[]): Promise<void>;
}

/** Splits `add-node lab 127.0.0.13 name=srv13` into words; key=value words become options. */
export function splitArgs(text: string): { words: string[]; options: Record<string, string> } {
  const words: string[] = [];
  const options: Record<string, string> = {};
  for (const w of text.trim().split(/\s+/).filter(Boolean)) {
    const m = /^([a-z-]+)=(.*)$/.exec(w);
    if (m) options[m[1]!] = m[2]!;
    else words.push(w);
  }
  return { words, options };
}

export const say = (text: string): ChatMessage => ({
  text,
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
});

/** Every command, click and refusal goes to the audit journal. */
export async function audit(
  ctx: CommandContext,
  cluster: string,
  action: string,
  data: Record<string, Json> = {},
) {
  await ctx.deps.store.append({
    runId: typeof data.runId === 'string' ? data.runId : null,
    cluster,
    actor: ctx.actor.user,
    event: { type: 'audit', action, data: { channel: ctx.actor.channel, ...data } },
  });
}

export async function routeKingbase(
  text: string,
  ctx: CommandContext,
  commands: readonly ChatCommand[],
): Promise<void> {
  const [verb = 'help', ...rest] = text.trim().split(/\s+/).filter(Boolean);
  const command = commands.find((c) => c.name === verb);
  if (!command) {
    await audit(ctx, '-', 'unknown-command', { text: text.slice(0, 200) });
    await ctx.surface.ephemeral(
      ctx.actor.channel,
      ctx.actor.user,
      say(
        `Unknown sub-command \`${verb.slice(0, 40)}\`. Try:\n${commands.map((c) => `• \`/kingbase ${c.usage}\``).join('\n')}`,
      ),
    );
    return;
  }
  await command.run(ctx, rest);
}
