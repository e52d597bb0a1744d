import { chunkLines, fitMessage, SLACK_LIMITS } from './limits';
import { context, header, section, type SlackMessage } from './slack-message';
import { code, esc } from './slack-text';

// `/kingbase help`: every sub-command with its usage. Which sub-commands there are is the caller's
// to say (the live command list and the runbook registry), so help never lists one that is gone.

/** One sub-command as help and usage errors show it. */
export interface CommandHelp {
  readonly name: string;
  /** The arguments after the sub-command's name: `<required> [optional]`. */
  readonly args: string;
  readonly summary: string;
}

export const KINGBASE_COMMAND = '/kingbase';

/** `/kingbase add-node <cluster> <host> …`: the form of one sub-command, plain text. */
const commandForm = (command: string, c: CommandHelp): string =>
  `${command} ${c.name}${c.args === '' ? '' : ` ${c.args}`}`;

/** Every sub-command given, in the order given, with its form and summary. */
export function helpMessage(commands: readonly CommandHelp[], command = KINGBASE_COMMAND): SlackMessage {
  const lines = commands.map((c) => `${code(commandForm(command, c))}\n      ${esc(c.summary)}`);
  return fitMessage(
    {
      text: `${esc(command)}: ${commands.map((c) => esc(c.name)).join(', ')}`,
      blocks: [
        header(`${command} commands`),
        ...chunkLines(lines, SLACK_LIMITS.sectionText).map(section),
        context(
          'Plans change nothing until approved with the buttons in their thread; every step shows its undo.',
        ),
      ],
    },
    { more: (n) => `… ${n} more commands` },
  );
}
