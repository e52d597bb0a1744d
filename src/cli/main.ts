#!/usr/bin/env node
import { formatProblems } from '../config/load-inventory';
import { loadConfig } from '../config/load-config';
import type { Env } from '../config/resolve-secret';

// The `kbops` command line. Exit codes: 0 ok, 2 configuration problems, 64 usage error.

const USAGE = `usage: kbops <command>

  check    validate the environment and the inventory (KBOPS_INVENTORY); list every problem
  health   exit 0 when kbops can start with this configuration (container HEALTHCHECK)
  help     this text`;

export interface CliIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export async function runCli(argv: readonly string[], env: Env, io: CliIo): Promise<number> {
  const [command] = argv;
  if (command === undefined || command === 'help' || command === '--help') {
    io.out(USAGE);
    return command === undefined ? 64 : 0;
  }
  if (command !== 'check' && command !== 'health') {
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
  runCli(process.argv.slice(2), process.env, {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`kbops: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
