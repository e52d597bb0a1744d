import { KINGBASE_COMMAND, SUBCOMMANDS, usageOf, type SubcommandHelp } from './help-message';
import { fitMessage } from './limits';
import { context, section, type SlackMessage } from './slack-message';
import { esc, freeText, MARK } from './slack-text';

// A command typed wrong: what was wrong and the right form, shown only to the person who typed it.
// The problem usually quotes their input, so it is escaped (no `<!channel>` from a typo).

export interface EphemeralMessage extends SlackMessage {
  readonly response_type: 'ephemeral';
}

export interface UsageErrorInput {
  /** What was wrong, e.g. `unknown cluster "ESH"` or `host: not an IP address or host name`. */
  readonly problem: string;
  /** The sub-command whose form to show; absent or unknown: every sub-command is listed. */
  readonly subcommand?: string;
  readonly command?: string;
  readonly subcommands?: readonly SubcommandHelp[];
}

export function usageError(input: UsageErrorInput): EphemeralMessage {
  const command = input.command ?? KINGBASE_COMMAND;
  const all = input.subcommands ?? SUBCOMMANDS;
  const usage = input.subcommand === undefined ? null : usageOf(input.subcommand, command, all);
  const form =
    usage !== null
      ? `*Usage:* \`${esc(usage)}\``
      : `*Commands:* ${all.map((s) => `\`${esc(s.name)}\``).join(', ')}`;
  return fitMessage({
    response_type: 'ephemeral',
    text: freeText(`${input.problem}${usage === null ? '' : ` — usage: ${usage}`}`),
    blocks: [
      section(`${MARK.warn} ${freeText(input.problem)}`),
      section(form),
      context(`\`${esc(command)} help\` lists every command with its usage.`),
    ],
  });
}
