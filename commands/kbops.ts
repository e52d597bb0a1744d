#!/usr/bin/env node
import { runCli } from '../src/cli/main';
import { RUNBOOKS } from '../src/runbooks';
import { kingbaseCommands } from './kingbase-commands';

// The `kbops` executable: the CLI with every runbook, and the chat commands for `kbops console`.
// Ctrl-C cancels a run at its current step (its remote command is killed) before kbops exits.

let interrupt: () => void = () => undefined;
const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
process.once('SIGINT', () => {
  process.stderr.write('\nkbops: interrupted: cancelling the run at its current step…\n');
  interrupt();
});
runCli(
  process.argv.slice(2),
  process.env,
  {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    write: (t) => process.stdout.write(t),
    tty: process.stdout.isTTY === true,
    interrupted,
  },
  { runbooks: RUNBOOKS, chatCommands: kingbaseCommands },
).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kbops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
