import { formatProblems, loadInventory } from '../src/config/load-inventory';
import { runConsole } from '../src/console/kbops-console';
import { kingbaseCommands } from '../commands/kingbase-commands';
import { labLayout, labOptionsFromEnv } from '../lab/lab-layout';
import { labUp } from '../lab/lab-up';

// npm run demo — the main job on the embedded default: bring the lab up and open the kbops console
// on it. In a terminal you type; otherwise (CI, a pipe) it plays a whole conversation: a request,
// the requester's own approval refused, a second person's approval, the run, the verdict; then the
// failover drill its thread offers (two approvers), and the restore of roles after it.

const script = (host: string) => [
  'as UBOB',
  '/kingbase status lab',
  `/kingbase add-node lab ${host}`,
  'press 1', // Approve, by the requester: refused
  'as UCAROL',
  'press 1', // Approve, by another approver
  'wait',
  // The failover drill the add-node thread offers, requested by UALICE, approved by two others.
  'as UALICE',
  'press Plan a failover test',
  'as UBOB',
  'press Approve',
  'as UCAROL',
  'press Approve',
  'wait',
  // The way back, planned from fresh facts and approved again.
  'as UALICE',
  'press Plan the restore',
  'as UBOB',
  'press Approve',
  'as UCAROL',
  'press Approve',
  'wait',
  '/kingbase status lab',
  '/kingbase runs',
  'quit',
];

async function* lines(list: readonly string[]): AsyncGenerator<string> {
  for (const l of list) yield l;
}

async function main(): Promise<number> {
  const lab = labLayout(labOptionsFromEnv(process.env));
  await labUp(lab, (line) => process.stdout.write(`[lab] ${line}\n`));
  const inv = await loadInventory(lab.inventoryPath, { env: process.env });
  if (!inv.ok) throw new Error(formatProblems(inv.problems));
  const interactive = process.stdin.isTTY === true && process.env.CI === undefined;
  if (!interactive) process.stdout.write('(not a terminal: playing the demo conversation)\n');
  await runConsole({
    inventory: inv.inventory,
    env: process.env,
    input: interactive ? stdinLines() : lines(script(lab.hosts[2].address)),
    out: process.stdout,
    store: { KBOPS_STATE_DIR: `${lab.root}/kbops-state` },
    commands: kingbaseCommands(),
    interactive,
    user: 'UBOB',
  });
  return 0;
}

async function* stdinLines(): AsyncGenerator<string> {
  const { createInterface } = await import('node:readline');
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) yield line;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
