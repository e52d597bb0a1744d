#!/usr/bin/env node
import { formatProblems } from '../config/load-inventory';
import { loadConfig } from '../config/load-config';
import type { Env } from '../config/resolve-secret';
import { registerSecret } from '../log/create-logger';
import { consoleCommand } from '../console/kbops-console';
import { addNodeCommand, type CommandIo } from './add-node-command';
import { rollbackCommand, runsCommand } from './run-commands';

// The `kbops` command line. Exit codes: 0 ok, 2 configuration problems, 64 usage error.

const USAGE = `usage: kbops <command>

  plan add-node --cluster C --host H [--name N] [--count-table T]…
           preflight and the exact plan; changes nothing
  add-node --cluster C --host H [--name N] [--count-table T]… --yes [--no-rollback]
           run it now (clusters with allowUnattendedCli), with progress and a verdict
  runs     the latest runs and their states
  rollback <run> --yes
           undo a failed, cancelled or interrupted run's changes, newest first
  console [--script FILE]
           the chat-ops bot without Slack: /kingbase commands, buttons and run threads as text
  check    validate the environment and the inventory (KBOPS_INVENTORY); list every problem
  health   exit 0 when kbops can start with this configuration (container HEALTHCHECK)
  help     this text

exit codes: 0 ok, 1 run failed, 2 configuration, 3 preflight failed, 4 rollback failed,
5 cluster locked, 64 usage, 130 cancelled`;

export type CliIo = CommandIo;

export async function runCli(argv: readonly string[], env: Env, io: CliIo): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === 'help' || command === '--help') {
    io.out(USAGE);
    return command === undefined ? 64 : 0;
  }
  const addNode = command === 'add-node' || (command === 'plan' && argv[1] === 'add-node');
  if (!['check', 'health', 'runs', 'rollback', 'console'].includes(command) && !addNode) {
    io.err(`kbops: unknown command "${command}"\n${USAGE}`);
    return 64;
  }
  const config = await loadConfig(env);
  if (!config.ok) {
    io.err(
      `kbops: configuration has ${config.problems.length} problem(s):\n${formatProblems(config.problems)}`,
    );
    return 2;
  }
  // From here on no output or log line can carry a resolved secret.
  for (const s of config.secrets) registerSecret(s);
  const ctx = {
    inventory: config.inventory,
    env,
    io,
    ...(config.options.KBOPS_STATE_DIR !== undefined && { stateDir: config.options.KBOPS_STATE_DIR }),
    ...(config.options.KBOPS_STATE_DATABASE_URL !== undefined && {
      stateUrl: config.options.KBOPS_STATE_DATABASE_URL,
    }),
  };
  if (addNode)
    return addNodeCommand(argv.slice(command === 'plan' ? 2 : 1), { ...ctx, planOnly: command === 'plan' });
  if (command === 'runs') return runsCommand(ctx);
  if (command === 'rollback') return rollbackCommand(argv.slice(1), ctx);
  if (command === 'console') return consoleCommand(argv.slice(1), ctx);
  if (command === 'check') {
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
  return 0;
}

if (require.main === module) {
  let interrupt: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  process.once('SIGINT', () => {
    process.stderr.write('\nkbops: interrupted: cancelling the run at its current step…\n');
    interrupt();
  });
  runCli(process.argv.slice(2), process.env, {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    write: (t) => process.stdout.write(t),
    tty: process.stdout.isTTY === true,
    interrupted,
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`kbops: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
