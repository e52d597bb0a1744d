import { chunkLines, fitMessage, SLACK_LIMITS } from './limits';
import { context, header, section, type SlackMessage } from './slack-message';
import { esc } from './slack-text';

// `/kingbase help`: every sub-command with its usage. The table is data, so usage errors show the
// same forms and the command handlers can be checked against it.

export interface SubcommandHelp {
  readonly name: string;
  /** The arguments after the sub-command's name: `<required> [optional]`. */
  readonly args: string;
  readonly summary: string;
}

export const KINGBASE_COMMAND = '/kingbase';

export const SUBCOMMANDS: readonly SubcommandHelp[] = [
  {
    name: 'add-node',
    args: '<cluster> <host> [name=<node>]',
    summary:
      'plan adding a streaming standby: preflight, then the exact commands, SQL and file edits with their undo, for approval in the thread',
  },
  { name: 'status', args: '<cluster>', summary: "the cluster's pool nodes and replication, with lag" },
  { name: 'runs', args: '[<cluster>]', summary: 'the latest runs and their states' },
  { name: 'show', args: '<run>', summary: "a run's plan, state and buttons, posted again" },
  { name: 'cancel', args: '<run>', summary: 'withdraw a plan, or stop a run at its current step' },
  {
    name: 'rollback',
    args: '<run>',
    summary: "undo a failed, cancelled or interrupted run's changes, newest first",
  },
  {
    name: 'unlock',
    args: '<cluster> [--cancel] <reason…>',
    summary:
      "admins: release a cluster's lock held by a run that cannot finish (audited); refused while a run executes, unless --cancel stops it first",
  },
  { name: 'help', args: '', summary: 'this list' },
];

/** `/kingbase add-node <cluster> <host> …`, or null for an unknown sub-command. */
export function usageOf(
  name: string,
  command: string = KINGBASE_COMMAND,
  subcommands: readonly SubcommandHelp[] = SUBCOMMANDS,
): string | null {
  const s = subcommands.find((x) => x.name === name);
  return s === undefined ? null : `${command} ${s.name}${s.args === '' ? '' : ` ${s.args}`}`;
}

export function helpMessage(
  command: string = KINGBASE_COMMAND,
  subcommands: readonly SubcommandHelp[] = SUBCOMMANDS,
): SlackMessage {
  const lines = subcommands.map(
    (s) => `\`${esc(usageOf(s.name, command, subcommands) ?? s.name)}\`\n      ${esc(s.summary)}`,
  );
  return fitMessage(
    {
      text: `${esc(command)}: ${subcommands.map((s) => esc(s.name)).join(', ')}`,
      blocks: [
        header(`${command} commands`),
        ...chunkLines(lines, SLACK_LIMITS.sectionText).map(section),
        context(
          'Plans change nothing until approved with the buttons in their thread; every step shows its undo. Runs are listed with `runs`.',
        ),
      ],
    },
    { more: (n) => `… ${n} more commands` },
  );
}
