import { scrubText } from '../log/scrub-secrets';
import { KINGBASE_COMMAND, type CommandHelp } from './help-message';
import { fitMessage } from './limits';
import { context, section, type SlackMessage } from './slack-message';
import { code, esc, MARK } from './slack-text';

// A command typed wrong: what was wrong and the right form, shown only to the person who typed it.

export interface EphemeralMessage extends SlackMessage {
  readonly response_type: 'ephemeral';
}

export interface UsageErrorInput {
  /**
   * What was wrong, as mrkdwn: kbops's words, with what was typed quoted through `shownInput`
   * (code, escaped), e.g. ``cluster: there is no cluster `ESH` (known: ESHA)``. See `problemText`.
   */
  readonly problem: string;
  /** The right form after the command, e.g. `add-node <cluster> <host>`; plain text. */
  readonly usage?: string;
  /** Without a usage (an unknown sub-command): the sub-commands there are. */
  readonly commands?: readonly CommandHelp[];
  /** The slash command; `/kingbase` by default. */
  readonly command?: string;
}

/**
 * The one rule for `problem`: it is mrkdwn, and whatever in it is not escaped yet is escaped here,
 * exactly once. `<` and `>` always; `&` unless it already starts `&amp;`, `&lt;` or `&gt;`. So input
 * a caller already escaped (shownInput, esc) is shown as typed, not as `&amp;lt;`, and input a caller
 * forgot to escape still cannot ping `<!channel>` or make a link. Secrets are masked first.
 */
export const problemText = (problem: string): string =>
  scrubText(problem)
    .replace(/&(?!(?:amp|lt|gt);)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');

export function usageError(input: UsageErrorInput): EphemeralMessage {
  const command = input.command ?? KINGBASE_COMMAND;
  const problem = problemText(input.problem);
  const usage = input.usage === undefined ? undefined : `${command} ${input.usage}`;
  const others = input.commands ?? [];
  const form =
    usage !== undefined
      ? [section(`*Usage:* ${code(usage)}`)]
      : others.length > 0
        ? [section(`*Commands:* ${others.map((c) => code(c.name)).join(', ')}`)]
        : [];
  return fitMessage({
    response_type: 'ephemeral',
    // The mark leads the text too: a notification shows the text alone.
    text: `${MARK.warn} ${problem}${usage === undefined ? '' : ` — usage: ${esc(usage)}`}`,
    blocks: [
      section(`${MARK.warn} ${problem}`),
      ...form,
      context(`${code(`${command} help`)} lists every command with its usage.`),
    ],
  });
}
