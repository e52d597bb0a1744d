import { hostname, userInfo } from 'node:os';
import { clusterConnectorFor, composeRuns } from '../app/compose-runs';
import { openStore, type StoreOptions } from '../app/open-store';
import type { ClusterConfig, Inventory } from '../config/normalise-inventory';
import type { Env } from '../config/resolve-secret';
import { renderChecks } from '../core/check';
import type { SealedPlan } from '../core/plan';
import { renderPlan } from '../core/render-plan';
import type { Run } from '../core/run';
import { runUnattended } from '../engine/run-unattended';
import { prepareRun } from '../runbooks/prepare-run';
import { cliUsage, type AnyRunbook } from '../runbooks/runbook';
import { CliProgress } from './cli-progress';
import { EXIT, type CommandIo } from './cli-io';
import { parseRunbookArgs } from './runbook-args';

// `kbops plan <runbook> …` (preflight and the exact plan; changes nothing) and `kbops run <runbook>
// … --yes` (runs it now, where the inventory allows unattended runs). Any runbook of the registry.

export interface PlanCommandContext {
  readonly inventory: Inventory;
  readonly env: Env;
  readonly io: CommandIo;
  readonly store: StoreOptions;
  readonly runbooks: readonly AnyRunbook[];
}

/** Refusals of the named approvers (or of their absence), before anything was stored: what was typed is wrong. */
const APPROVER_REFUSALS = new Set(['needs-approvers', 'duplicate-approver', 'self-approval', 'not-approver']);

const requester = (): string => `cli:${userInfo().username}@${hostname()}`;

export async function planCommand(
  runbook: AnyRunbook,
  argv: readonly string[],
  mode: 'plan' | 'run',
  ctx: PlanCommandContext,
): Promise<number> {
  const { io } = ctx;
  const args = parseRunbookArgs(runbook, argv);
  const usage = `usage: kbops ${mode} ${cliUsage(runbook)}${mode === 'run' ? ' --yes [--approve-as <user>]…' : ''}`;
  if (!args.ok) {
    io.err(`kbops: ${args.message}\n${usage}`);
    return EXIT.usage;
  }
  if (args.approvers.length > 0 && (mode === 'plan' || !args.yes)) {
    io.err(`kbops: --approve-as names who approves a run: it goes with run … --yes\n${usage}`);
    return EXIT.usage;
  }
  const prepared = await prepareRun(runbook, args.input, {
    inventory: ctx.inventory,
    requester: requester(),
    connectorFor: clusterConnectorFor(ctx.env),
  });
  if (!prepared.ok) {
    io.err(
      `kbops: ${prepared.failure.message}${prepared.failure.hint ? `\n  ${prepared.failure.hint}` : ''}`,
    );
    return prepared.failure.code === 'bad-input' || prepared.failure.code === 'unknown-cluster'
      ? EXIT.usage
      : EXIT.config;
  }
  io.out(`Preflight (${prepared.subject}):`);
  io.out(renderChecks(prepared.preflight));
  const plan = prepared.plan;
  if (!plan) {
    io.err('kbops: preflight failed: nothing was changed');
    return EXIT.preflight;
  }
  if (mode === 'plan' || !args.yes) {
    io.out(`\n${renderPlan(plan)}`);
    if (mode === 'run') io.out('\nNothing was changed: add --yes to run it.');
    return EXIT.ok;
  }
  const cluster = prepared.cluster;
  if (!cluster.allowUnattendedCli) {
    io.err(
      `kbops: cluster ${cluster.name} needs approval in Slack: unattended CLI runs are off for it (allowUnattendedCli)`,
    );
    return EXIT.config;
  }
  return runNow(
    plan,
    cluster,
    { rollback: args.rollback, subject: prepared.subject, approvers: args.approvers },
    ctx,
  );
}

async function runNow(
  plan: SealedPlan,
  cluster: ClusterConfig,
  o: { rollback: boolean; subject: string; approvers: readonly string[] },
  ctx: PlanCommandContext,
): Promise<number> {
  const { io } = ctx;
  const owner = `cli:${hostname()}:${process.pid}`;
  const store = await openStore(ctx.store, ctx.env);
  try {
    const { runs, executor } = composeRuns({
      inventory: ctx.inventory,
      env: ctx.env,
      store,
      groupsOf: () => [],
      notifier: new CliProgress(
        io.write && io.tty
          ? { write: io.write, tty: true }
          : { write: (t) => io.out(t.replace(/\n$/, '')), tty: false },
      ),
      owner,
      onError: (what, err) => io.err(`kbops: ${what}: ${err instanceof Error ? err.message : String(err)}`),
      runbooks: ctx.runbooks,
      // Named approvers are checked against the cluster's approvers; otherwise the requester approves.
      unattended:
        o.approvers.length > 0
          ? { rollbackOnFailure: o.rollback }
          : { approver: plan.requester, rollbackOnFailure: o.rollback },
    });
    const r = await runUnattended(plan, {
      runs,
      executor,
      store,
      owner,
      meta: { subject: o.subject },
      approvers: o.approvers,
      onCreated: (run) => io.out(`\nrun ${run.id}: ${plan.steps.length} steps`),
      ...(io.interrupted && { cancelled: io.interrupted }),
    });
    if (!r.ok) {
      io.err(`kbops: ${r.failure.message}${r.failure.hint ? `\n  ${r.failure.hint}` : ''}`);
      return r.failure.code === 'cluster-locked'
        ? EXIT.locked
        : APPROVER_REFUSALS.has(r.failure.code)
          ? EXIT.usage
          : EXIT.failed;
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
