import type { ChatCommand } from '../chatops/chatops';
import { formatProblems } from '../config/load-inventory';
import { loadConfig } from '../config/load-config';
import type { Env } from '../config/resolve-secret';
import { registerSecret } from '../log/create-logger';
import { consoleCommand } from '../console/kbops-console';
import { RUNBOOKS, runbookById } from '../runbooks';
import { cliUsage, type AnyRunbook } from '../runbooks/runbook';
import { EXIT, type CommandIo } from './cli-io';
import { planCommand } from './plan-command';
import {
  cannotReport,
  parseReportArgs,
  REPORT_USAGE,
  reportCommand,
  type ReportSeams,
} from './report-command';
import { rollbackCommand, runsCommand } from './run-commands';

// The `kbops` command line: generic verbs, and every runbook of the registry under `plan` and
// `run` (and, as documented for add-node, by its own name: `kbops add-node …` is `kbops run add-node …`).

const usage = (runbooks: readonly AnyRunbook[]): string => `usage: kbops <command>

  plan <runbook> <flags>
           preflight and the exact plan; changes nothing
  run <runbook> <flags> --yes [--no-rollback] [--approve-as <user>]…
           run it now (clusters with allowUnattendedCli), with progress and a verdict; a runbook
           that needs several approvers, or excludes its requester, needs each of them named
           with --approve-as (a Slack user id among the cluster's approvers, once per person)
  <runbook> <flags> [--yes]
           the same as run
  runs     the latest runs and their states
  report [--cluster <name>]… [--json]
           read every cluster (or those named) now and judge its replication health: one line
           per cluster, then what is wrong; --json prints one JSON document (kbops_report: 1).
           Exits 0 green, 1 amber, 2 red, 3 could not report (configuration included): a
           monitoring check in the Nagios way
  rollback <run> --yes
           undo a failed, cancelled or interrupted run's changes, newest first
  console [--script FILE]
           the chat-ops bot without Slack: /kingbase commands, buttons and run threads as text
  check    validate the environment and the inventory (KBOPS_INVENTORY); list every problem
  health   exit 0 when kbops can start with this configuration (container HEALTHCHECK)
  help     this text

runbooks:
${runbooks.map((r) => `  ${cliUsage(r)}\n           ${r.summary}`).join('\n')}

exit codes: 0 ok, 1 run failed, 2 configuration, 3 preflight failed, 4 rollback failed,
5 cluster locked, 64 usage (approvers missing or not allowed included), 130 cancelled;
report alone: 0 green, 1 amber, 2 red, 3 could not report (configuration included), 64 usage`;

/** What the CLI offers beyond its own verbs: the runbooks, and the chat commands for `console`. */
export interface CliFront {
  readonly runbooks?: readonly AnyRunbook[];
  readonly chatCommands?: (runbooks: readonly AnyRunbook[]) => readonly ChatCommand[];
  /** How `report` reaches the clusters and tells the time (default: SSH and SQL, the system clock). */
  readonly report?: ReportSeams;
}

type Verb =
  | { kind: 'builtin'; name: string; args: readonly string[] }
  | { kind: 'runbook'; runbook: AnyRunbook; mode: 'plan' | 'run'; args: readonly string[] }
  | { kind: 'unknown'; what: string };

const BUILTINS = ['check', 'health', 'runs', 'report', 'rollback', 'console'];

function recognise(argv: readonly string[], runbooks: readonly AnyRunbook[]): Verb {
  const [command = '', ...rest] = argv;
  if (BUILTINS.includes(command)) return { kind: 'builtin', name: command, args: rest };
  if (command === 'plan' || command === 'run') {
    const runbook = runbookById(runbooks, rest[0] ?? '');
    return runbook
      ? { kind: 'runbook', runbook, mode: command, args: rest.slice(1) }
      : { kind: 'unknown', what: `${command} ${rest[0] ?? ''}`.trim() };
  }
  const runbook = runbookById(runbooks, command);
  return runbook ? { kind: 'runbook', runbook, mode: 'run', args: rest } : { kind: 'unknown', what: command };
}

export type CliIo = CommandIo;

export async function runCli(
  argv: readonly string[],
  env: Env,
  io: CliIo,
  front: CliFront = {},
): Promise<number> {
  const runbooks = front.runbooks ?? RUNBOOKS;
  const [command] = argv;
  if (command === undefined || command === 'help' || command === '--help') {
    io.out(usage(runbooks));
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  const verb = recognise(argv, runbooks);
  if (verb.kind === 'unknown') {
    io.err(`kbops: unknown command "${verb.what}"\n${usage(runbooks)}`);
    return EXIT.usage;
  }
  // report's arguments first: a usage error is 64 whatever the configuration.
  const reportArgs = verb.kind === 'builtin' && verb.name === 'report' ? parseReportArgs(verb.args) : null;
  if (reportArgs && !reportArgs.ok) {
    io.err(`kbops: ${reportArgs.message}\n${REPORT_USAGE}`);
    return EXIT.usage;
  }
  const config = await loadConfig(env);
  if (!config.ok) {
    io.err(
      `kbops: configuration has ${config.problems.length} problem(s):\n${formatProblems(config.problems)}`,
    );
    // For report 2 would read as a red cluster: it says UNKNOWN (3) instead.
    return reportArgs
      ? cannotReport(io, reportArgs.args.json, `configuration has ${config.problems.length} problem(s)`)
      : EXIT.config;
  }
  // From here on no output or log line can carry a resolved secret.
  for (const s of config.secrets) registerSecret(s);
  const ctx = { inventory: config.inventory, env, io, store: config.options, runbooks };
  if (verb.kind === 'runbook') return planCommand(verb.runbook, verb.args, verb.mode, ctx);
  if (verb.name === 'runs') return runsCommand(ctx);
  if (reportArgs)
    return reportCommand(reportArgs.args, { ...ctx, ...(front.report && { seams: front.report }) });
  if (verb.name === 'rollback') return rollbackCommand(verb.args, ctx);
  if (verb.name === 'console') {
    if (!front.chatCommands) {
      io.err('kbops: this build has no chat commands for the console');
      return EXIT.usage;
    }
    return consoleCommand(verb.args, { ...ctx, commands: front.chatCommands(runbooks) });
  }
  if (verb.name === 'check') {
    io.out(`inventory ${config.inventoryPath}: OK`);
    for (const c of Object.values(config.inventory.clusters)) {
      const manager = c.manager
        ? `, ${c.manager.kind} on ${c.manager.nodes.map((m) => `${m.host}:${m.sqlPort}`).join(' ')}`
        : '';
      io.out(
        `  ${c.name} (${c.dialect}): ${c.nodes.map((n) => `${n.name}@${n.host}:${n.sqlPort}`).join(', ')}${manager}`,
      );
    }
  }
  return EXIT.ok;
}
