import { hostname } from 'node:os';
import { composeRuns } from '../app/compose-runs';
import { openStore, type StoreOptions } from '../app/open-store';
import type { Inventory } from '../config/normalise-inventory';
import type { Env } from '../config/resolve-secret';
import type { Run } from '../core/run';
import { RUN_ID } from '../chatops/run-actions';
import { runSubject } from '../render/run-text';
import type { AnyRunbook } from '../runbooks/runbook';
import { CliProgress } from './cli-progress';
import { EXIT, type CommandIo } from './cli-io';

// `kbops runs` and `kbops rollback <run> --yes`: what an operator needs after a failed or
// interrupted run, from the same store the bot uses.

export interface RunCommandContext {
  readonly inventory: Inventory;
  readonly env: Env;
  readonly io: CommandIo;
  readonly store: StoreOptions;
  readonly runbooks: readonly AnyRunbook[];
}

export async function runsCommand(ctx: RunCommandContext): Promise<number> {
  const store = await openStore(ctx.store, ctx.env);
  try {
    const runs = await store.listRuns({ limit: 50 });
    if (runs.length === 0) ctx.io.out('no runs');
    for (const r of runs) {
      ctx.io.out(
        `${r.id}  ${r.state.padEnd(17)} ${r.cluster}  ${runSubject(r)}  step ${r.nextStep}/${r.plan.steps.length}  ${r.createdAt}`,
      );
    }
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

/** Undo a failed, cancelled or interrupted run's changes, newest first, here and now. */
export async function rollbackCommand(argv: readonly string[], ctx: RunCommandContext): Promise<number> {
  const [id, ...rest] = argv;
  if (id === undefined || rest.some((a) => a !== '--yes')) {
    ctx.io.err('usage: kbops rollback <run id> --yes');
    return EXIT.usage;
  }
  if (!RUN_ID.test(id)) {
    ctx.io.err(`kbops: run: ${JSON.stringify(id.slice(0, 40))} is not a run id (see kbops runs)`);
    return EXIT.usage;
  }
  const store = await openStore(ctx.store, ctx.env);
  try {
    const run = await store.getRun(id);
    const cluster = run && ctx.inventory.clusters[run.cluster];
    if (!run || !cluster) {
      ctx.io.err(
        `kbops: ${run ? `run ${id} is for cluster ${run.cluster}, which the inventory does not describe` : `there is no run ${id}`}`,
      );
      return EXIT.config;
    }
    if (!rest.includes('--yes')) {
      ctx.io.out(`run ${id} is ${run.state}; add --yes to undo its changes`);
      return EXIT.ok;
    }
    if (!cluster.allowUnattendedCli) {
      ctx.io.err(
        `kbops: cluster ${cluster.name} does not allow unattended CLI runs (allowUnattendedCli): roll run ${id} back from Slack (/kingbase rollback ${id})`,
      );
      return EXIT.config;
    }
    const owner = `cli:${hostname()}:${process.pid}`;
    const { runs, executor } = composeRuns({
      inventory: ctx.inventory,
      env: ctx.env,
      store,
      groupsOf: () => [],
      notifier: new CliProgress({ write: (t) => ctx.io.out(t.replace(/\n$/, '')), tty: false }),
      owner,
      onError: (what, err) =>
        ctx.io.err(`kbops: ${what}: ${err instanceof Error ? err.message : String(err)}`),
      runbooks: ctx.runbooks,
      unattended: { approver: owner, rollbackOnFailure: false },
    });
    const r = await runs.rollback(id, owner, { owner, leaseMs: 60_000 });
    if (!r.ok) {
      ctx.io.err(`kbops: ${r.failure.message}`);
      return EXIT.failed;
    }
    const done: Run = await executor.execute(r.run);
    return done.state === 'rolled_back' ? EXIT.ok : EXIT.rollbackFailed;
  } finally {
    await store.close();
  }
}
