import type { Reporter } from './reporter';
import type { ClusterConfig, Inventory } from '../config/normalise-inventory';
import type { Env } from '../config/resolve-secret';
import type { Json } from '../core/json';
import type { RunService } from '../engine/run-service';
import type { Clock } from '../ports/clock';
import type { Connector } from '../ports/connector';
import type { AnyRunbook } from '../runbooks/runbook';
import type { RunStore } from '../ports/run-store';
import type { Actor, ChatMessage, ChatSurface } from './chat-surface';
import { code, esc } from '../render/slack-text';
import type { GroupsOf } from './cluster-access';
import type { FormValues } from './runbook-form';

// The `/kingbase` front end, shared by Slack and the console: a router over one command per
// folder in commands/, each thin (parse → check who may → call a service → render).

export interface ChatopsDeps {
  readonly inventory: Inventory;
  readonly env: Env;
  readonly store: RunStore;
  readonly runs: RunService;
  readonly clock: Clock;
  readonly groupsOf: GroupsOf;
  /** The runbooks offered (src/runbooks/index.ts, or a test's). */
  readonly runbooks: readonly AnyRunbook[];
  /** Read-only connections for preflight and status; closed by whoever asked. */
  readonly connectorFor: (cluster: ClusterConfig) => Connector;
  /** Health reports on demand (`/kingbase report`); absent where none are composed. */
  readonly reporter?: Reporter;
  /**
   * The front end cannot verify who people are (the console): approving, retrying, resuming,
   * rolling back and unlocking are allowed only on clusters with allowUnattendedCli.
   */
  readonly unverifiedUsers?: boolean;
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
  /** A modal this command opens when typed without arguments: its callback id and its words. */
  readonly form?: { readonly id: string; args(values: FormValues): string[] };
  run(ctx: CommandContext, args: readonly string[]): Promise<void>;
}

// Control characters, bidi overrides and invisible marks: shown as \uFFFD so a reply cannot reorder,
// hide or break the text around what someone typed.
export const UNSHOWABLE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** What someone typed, for a reply: cut to `max`, unshowable characters replaced, escaped as code. */
export function shownInput(text: string, max = 40): string {
  const chars = [...text];
  const cut = chars.slice(0, max).join('').replace(UNSHOWABLE, '\uFFFD');
  return `${code(cut)}${chars.length > max ? '…' : ''}`;
}

/**
 * The words of `add-node lab 127.0.0.13 name=srv13`, each already one argument (a form's value may
 * hold spaces: it is never split again); key=value arguments become options, in order.
 */
export function splitArgs(args: readonly string[]): {
  words: string[];
  options: Array<{ key: string; value: string }>;
} {
  const words: string[] = [];
  const options: Array<{ key: string; value: string }> = [];
  for (const w of args) {
    const m = /^([a-z][a-z-]*)=(.*)$/s.exec(w);
    if (m) options.push({ key: m[1]!, value: m[2]! });
    else words.push(w);
  }
  return { words, options };
}

export const say = (text: string): ChatMessage => ({
  text,
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
});

/** A read or action refused: journaled, and told only to the person who asked (the reason is plain text). */
export async function refuse(
  ctx: CommandContext,
  cluster: string,
  action: string,
  reason: string,
  data: Record<string, Json> = {},
): Promise<void> {
  await audit(ctx, cluster, `${action}-refused`, { ...data, reason });
  await ctx.surface.ephemeral(ctx.actor.channel, ctx.actor.user, say(`:no_entry_sign: ${esc(reason)}`));
}

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
    await audit(ctx, '-', 'unknown-command', { text: [...text].slice(0, 200).join('') });
    await ctx.surface.ephemeral(
      ctx.actor.channel,
      ctx.actor.user,
      say(
        `Unknown sub-command ${shownInput(verb)}. Try:\n${commands.map((c) => `• ${code(`/kingbase ${c.usage}`)}`).join('\n')}`,
      ),
    );
    return;
  }
  await command.run(ctx, rest);
}
