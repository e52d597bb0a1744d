import { hostname } from 'node:os';
import { ClusterConnector } from '../adapters/cluster-connector';
import { systemClock } from '../adapters/system-clock';
import type { Inventory } from '../config/normalise-inventory';
import type { Env } from '../config/resolve-secret';
import type { Run } from '../core/run';
import { RUN_ID } from '../chatops/run-actions';
import { Executor } from '../engine/executor';
import { RunService } from '../engine/run-service';
import { createRunStore } from '../store/create-run-store';
import type { CommandIo } from './add-node-command';
import { CliProgress } from './cli-progress';

// `kbops runs` and `kbops rollback <run> --yes`: what an operator needs after a failed or
// interrupted run, from the same store the bot uses.

export interface RunCommandContext {
  readonly inventory: Inventory;
  readonly env: Env;
  readonly io: CommandIo;
  readonly stateDir?: string;
  readonly stateUrl?: string;
}

const openStore = (ctx: RunCommandContext) =>
  createRunStore({
    ...(ctx.stateUrl !== undefined && { databaseUrl: ctx.stateUrl }),
    ...(ctx.stateDir !== undefined && { dataDir: ctx.stateDir }),
  });

export async function runsCommand(ctx: RunCommandContext): Promise<number> {
  const store = await openStore(ctx);
  try {
    const runs = await store.listRuns({ limit: 50 });
    if (runs.length === 0) ctx.io.out('no runs');
    for (const r of runs) {
      ctx.io.out(
        `${r.id}  ${r.state.padEnd(17)} ${r.cluster}  ${r.plan.runbook.id} ${JSON.stringify(r.plan.params.host ?? '')}  step ${r.nextStep}/${r.plan.steps.length}  ${r.createdAt}`,
      );
    }
    return 0;
  } finally {
    await store.close();
  }
}

/** Undo a failed, cancelled or interrupted run's changes, newest first, here and now. */
export async function rollbackCommand(argv: readonly string[], ctx: RunCommandContext): Promise<number> {
  const [id, ...rest] = argv;
  if (id === undefined || rest.some((a) => a !== '--yes')) {
    ctx.io.err('usage: kbops rollback <run id> --yes');
    return 64;
  }
  if (!RUN_ID.test(id)) {
    ctx.io.err(`kbops: run: ${JSON.stringify(id.slice(0, 40))} is not a run id (see kbops runs)`);
    return 64;
  }
  const store = await openStore(ctx);
  try {
    const run = await store.getRun(id);
    const cluster = run && ctx.inventory.clusters[run.cluster];
    if (!run || !cluster) {
      ctx.io.err(
        `kbops: ${run ? `run ${id} is for cluster ${run.cluster}, which the inventory does not describe` : `there is no run ${id}`}`,
      );
      return 2;
    }
    if (!rest.includes('--yes')) {
      ctx.io.out(`run ${id} is ${run.state}; add --yes to undo its changes`);
      return 0;
    }
    if (!cluster.allowUnattendedCli) {
      ctx.io.err(
        `kbops: cluster ${cluster.name} does not allow unattended CLI runs (allowUnattendedCli): roll run ${id} back from Slack (/kingbase rollback ${id})`,
      );
      return 2;
    }
    const connectorFor = () => new ClusterConnector(cluster, ctx.env);
    const service = new RunService({
      store,
      clock: systemClock,
      policyFor: () => ({
        required: 1,
        approvers: { users: [], groups: [] },
        allowSelfApproval: false,
        ttlMs: Infinity,
        autoRollback: false,
        admins: { users: [], groups: [] },
      }),
      groupsOf: () => [],
      connectorFor,
    });
    const owner = `cli:${hostname()}:${process.pid}`;
    const r = await service.rollback(id, owner, { owner, leaseMs: 60_000 });
    if (!r.ok) {
      ctx.io.err(`kbops: ${r.failure.message}`);
      return 1;
    }
    const done: Run = await new Executor({
      store,
      connectorFor,
      notifier: new CliProgress({ write: (t) => ctx.io.out(t.replace(/\n$/, '')), tty: false }),
      clock: systemClock,
      owner,
      leaseMs: 60_000,
      pollMs: 500,
      baseApprovals: () => 1,
      autoRollback: () => false,
    }).execute(r.run);
    return done.state === 'rolled_back' ? 0 : 4;
  } finally {
    await store.close();
  }
}
