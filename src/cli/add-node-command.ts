import { hostname, userInfo } from 'node:os';
import { ClusterConnector } from '../adapters/cluster-connector';
import type { ClusterConfig, Inventory } from '../config/normalise-inventory';
import type { SealedPlan } from '../core/plan';
import type { Env } from '../config/resolve-secret';
import { renderPlan } from '../core/render-plan';
import { runUnattended } from '../engine/run-unattended';
import type { Run } from '../core/run';
import { renderPreflight } from '../runbooks/add-node/add-node-preflight';
import { USAGE } from '../runbooks/add-node/add-node-params';
import { prepareAddNode } from '../runbooks/add-node/prepare-add-node';
import { createRunStore } from '../store/create-run-store';
import { CliProgress } from './cli-progress';

// `kbops plan add-node …` and `kbops add-node … --yes`. Exit codes say what happened.

export const EXIT = {
  ok: 0,
  failed: 1, // the run failed (rolled back unless --no-rollback)
  config: 2,
  preflight: 3,
  rollbackFailed: 4,
  locked: 5,
  cancelled: 130,
  usage: 64,
} as const;

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly tty: boolean;
  /** Raw output without a newline (a progress bar redrawn in place). */
  readonly write?: (text: string) => void;
  /** Resolves when the user interrupts (Ctrl-C); the run is then cancelled. */
  readonly interrupted?: Promise<void>;
}

const FLAGS: Record<string, string> = {
  '--cluster': 'cluster',
  '--host': 'host',
  '--name': 'name',
  '--ssh-port': 'sshPort',
  '--sql-port': 'sqlPort',
  '--data-dir': 'dataDir',
  '--cluster-path': 'clusterPath',
  '--count-table': 'countTables',
};

export type ParsedArgs =
  | { ok: true; input: Record<string, unknown>; yes: boolean; rollback: boolean }
  | { ok: false; message: string };

export function parseAddNodeArgs(argv: readonly string[]): ParsedArgs {
  const input: Record<string, unknown> = { countTables: [] };
  let yes = false;
  let rollback = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--yes') yes = true;
    else if (a === '--no-rollback') rollback = false;
    else if (FLAGS[a] !== undefined) {
      const v = argv[++i];
      if (v === undefined) return { ok: false, message: `${a} needs a value` };
      const key = FLAGS[a]!;
      if (key === 'countTables') (input.countTables as string[]).push(v);
      else if (key === 'sshPort' || key === 'sqlPort') input[key] = /^\d+$/.test(v) ? Number(v) : v;
      else input[key] = v;
    } else return { ok: false, message: `unknown argument ${JSON.stringify(a.slice(0, 40))}` };
  }
  return { ok: true, input, yes, rollback };
}

const requester = (): string => `cli:${userInfo().username}@${hostname()}`;

export async function addNodeCommand(
  argv: readonly string[],
  ctx: {
    inventory: Inventory;
    env: Env;
    io: CommandIo;
    planOnly: boolean;
    stateDir?: string;
    stateUrl?: string;
  },
): Promise<number> {
  const { io } = ctx;
  const args = parseAddNodeArgs(argv);
  if (!args.ok) {
    io.err(
      `kbops: ${args.message}\nusage: kbops ${ctx.planOnly ? 'plan ' : ''}${USAGE}${ctx.planOnly ? '' : ' --yes'}`,
    );
    return EXIT.usage;
  }
  const prepared = await prepareAddNode(args.input, {
    inventory: ctx.inventory,
    env: ctx.env,
    requester: requester(),
  });
  if (!prepared.ok) {
    io.err(
      `kbops: ${prepared.failure.message}${prepared.failure.hint ? `\n  ${prepared.failure.hint}` : ''}`,
    );
    return prepared.failure.code === 'bad-input' || prepared.failure.code === 'unknown-cluster'
      ? EXIT.usage
      : EXIT.config;
  }
  io.out(
    `Preflight for adding ${prepared.params.name} (${prepared.params.host}) to ${prepared.params.cluster.name}:`,
  );
  io.out(renderPreflight(prepared.preflight));
  const plan = prepared.plan;
  if (!plan) {
    io.err('kbops: preflight failed: nothing was changed');
    return EXIT.preflight;
  }
  if (ctx.planOnly || !args.yes) {
    io.out(`\n${renderPlan(plan)}`);
    if (!ctx.planOnly) io.out('\nNothing was changed: add --yes to run it.');
    return EXIT.ok;
  }
  const cluster = prepared.params.cluster;
  if (!cluster.allowUnattendedCli) {
    io.err(
      `kbops: cluster ${cluster.name} needs approval in Slack: unattended CLI runs are off for it (allowUnattendedCli)`,
    );
    return EXIT.config;
  }
  return runPlan(plan, cluster, args.rollback, ctx);
}

async function runPlan(
  plan: SealedPlan,
  cluster: ClusterConfig,
  rollback: boolean,
  ctx: Parameters<typeof addNodeCommand>[1],
): Promise<number> {
  const { io } = ctx;
  const store = await createRunStore({
    ...(ctx.stateUrl !== undefined && { databaseUrl: ctx.stateUrl }),
    ...(ctx.stateDir !== undefined && { dataDir: ctx.stateDir }),
  });
  try {
    const r = await runUnattended(plan, {
      store,
      connectorFor: () => new ClusterConnector(cluster, ctx.env),
      notifier: new CliProgress(
        io.write && io.tty
          ? { write: io.write, tty: true }
          : { write: (t) => io.out(t.replace(/\n$/, '')), tty: false },
      ),
      owner: `cli:${hostname()}:${process.pid}`,
      rollbackOnFailure: rollback,
      onCreated: (run) => io.out(`\nrun ${run.id}: ${plan.steps.length} steps`),
      ...(io.interrupted && { cancelled: io.interrupted }),
    });
    if (!r.ok) {
      io.err(`kbops: ${r.failure.message}${r.failure.hint ? `\n  ${r.failure.hint}` : ''}`);
      return r.failure.code === 'cluster-locked' ? EXIT.locked : EXIT.failed;
    }
    return exitFor(r.run);
  } finally {
    await store.close();
  }
}

function exitFor(run: Run): number {
  switch (run.state) {
    case 'succeeded':
      return EXIT.ok;
    case 'rollback_failed':
      return EXIT.rollbackFailed;
    case 'cancelled':
      return EXIT.cancelled;
    default:
      return EXIT.failed;
  }
}
