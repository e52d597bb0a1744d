import { ClusterConnector } from '../adapters/cluster-connector';
import { systemClock } from '../adapters/system-clock';
import type { ClusterConfig, Inventory } from '../config/normalise-inventory';
import type { Env } from '../config/resolve-secret';
import { demandedPolicy } from '../core/approval-policy';
import type { ProgressReader } from '../core/plan';
import type { Run, StoredEvent } from '../core/run';
import type { ChatSurface } from '../chatops/chat-surface';
import type { ChatopsDeps } from '../chatops/chatops';
import { runPolicyFor, type GroupsOf } from '../chatops/cluster-access';
import { ThreadNotifier } from '../chatops/thread-notifier';
import { Engine } from '../engine/engine';
import { Executor } from '../engine/executor';
import { RunService, type RunPolicy } from '../engine/run-service';
import type { Connector } from '../ports/connector';
import type { Notifier } from '../ports/notifier';
import type { RunStore } from '../ports/run-store';
import { RUNBOOKS } from '../runbooks';
import type { AnyRunbook } from '../runbooks/runbook';
import { isDeadPredecessor } from './instance-id';
import { postReport } from './report-publisher';
import { ReportService } from './report-service';
import type { Reporter } from '../chatops/reporter';
import type { HealthReport } from '../health/report-model';
import type { ReportStore } from '../ports/report-store';

// What every front end needs behind its commands, composed once for the bot, the console and the
// CLI: the run service with each cluster's policy, the executor with the runbooks' progress
// readers, and the engine that executes approved runs and tells their thread (or the terminal).

/** How often the engine looks for work (the health check allows a few missed rounds). */
export const ENGINE_POLL_MS = 500;
/** How long a run's claim holds without renewal; the executor renews it well before. */
export const LEASE_MS = 30_000;

export interface ComposedRuns {
  readonly deps: ChatopsDeps;
  /** Health reports: the same service for the schedule, `/kingbase report` and `kbops report`. */
  readonly reports: ReportService;
  readonly runs: RunService;
  readonly executor: Executor;
  readonly engine: Engine;
  /**
   * Marks this instance's runs left by its dead processes interrupted (a restart), then starts the
   * engine; returns the runs it interrupted. Runs of live processes are never touched.
   */
  start(): Promise<Run[]>;
}

export interface ComposeOptions {
  readonly inventory: Inventory;
  readonly env: Env;
  readonly store: RunStore;
  readonly groupsOf: GroupsOf;
  /** Where run events go: a chat surface's threads (late-bound: Slack's needs the app's client), or a notifier. */
  readonly surface?: () => ChatSurface;
  readonly notifier?: Notifier;
  /** This process as the owner of the runs it executes: unique per process (newInstanceId). */
  readonly owner: string;
  readonly onError: (what: string, err: unknown) => void;
  /** The runbooks offered (default: all of src/runbooks/index.ts). */
  readonly runbooks?: readonly AnyRunbook[];
  /**
   * The CLI's `--yes`, only on clusters whose inventory allows unattended runs (checked by the
   * caller): one approval suffices unless the plan demands more. `approver` alone approves; without
   * it, the people named with `--approve-as`, who must be among the cluster's approvers. A failed
   * run is rolled back only when asked.
   */
  readonly unattended?: { readonly approver?: string; readonly rollbackOnFailure: boolean };
  /**
   * Told every journaled event the notifier is told, before it (e.g. metrics). What it throws goes
   * to onError, never into the run or the notifier.
   */
  readonly onEvent?: (event: StoredEvent, run: Run) => void;
  /** Where health reports keep their lag history and levels (the state store's); absent: not kept. */
  readonly reports?: ReportStore;
  /** Told every health report made (metrics). */
  readonly onReport?: (report: HealthReport) => void;
}

/** Every runbook's progress readers by name; two runbooks may not give one name two meanings. */
export function progressReadersOf(runbooks: readonly AnyRunbook[]): Record<string, ProgressReader> {
  const out: Record<string, ProgressReader> = {};
  for (const r of runbooks)
    for (const [name, reader] of Object.entries(r.progress ?? {})) {
      if (out[name] && out[name] !== reader)
        throw new Error(`runbooks: two runbooks contribute a progress reader named ${name}`);
      out[name] = reader;
    }
  return out;
}

/** Connections to a cluster's hosts, with its secrets resolved from `env`. */
export const clusterConnectorFor =
  (env: Env) =>
  (cluster: ClusterConfig): Connector =>
    new ClusterConnector(cluster, env);

export function composeRuns(o: ComposeOptions): ComposedRuns {
  const runbooks = o.runbooks ?? RUNBOOKS;
  const clusterOf = (name: string): ClusterConfig => {
    const c = o.inventory.clusters[name];
    if (!c) throw new Error(`no cluster ${name} in the inventory`);
    return c;
  };
  const policyFor = (name: string): RunPolicy => {
    const policy = runPolicyFor(clusterOf(name));
    if (!o.unattended) return policy;
    const { approver, rollbackOnFailure } = o.unattended;
    return {
      ...policy,
      required: 1,
      approvers: approver === undefined ? policy.approvers : { users: [approver], groups: [] },
      allowSelfApproval: true,
      autoRollback: rollbackOnFailure,
    };
  };
  const connectorFor = (run: { cluster: string }) => new ClusterConnector(clusterOf(run.cluster), o.env);
  const runs = new RunService({
    store: o.store,
    clock: systemClock,
    policyFor,
    groupsOf: o.groupsOf,
    connectorFor,
  });
  let threadNotifier: ThreadNotifier | undefined;
  const told: Notifier = o.notifier ?? {
    notify: (...args) => {
      if (!o.surface) return;
      const surface = o.surface;
      (threadNotifier ??= new ThreadNotifier(surface(), systemClock, (err) => o.onError('thread', err), {
        policyOf: (plan) => runs.policyOf(plan),
        runbooks,
      })).notify(...args);
    },
  };
  const notifier: Notifier = !o.onEvent
    ? told
    : {
        notify: (event, run) => {
          try {
            o.onEvent?.(event, run);
          } catch (err) {
            o.onError('event observer', err);
          }
          told.notify(event, run);
        },
      };
  // One switch for SIGTERM: the engine flips it, every execution stops at its current step.
  const shutdown = new AbortController();
  const executor = new Executor({
    shutdown: shutdown.signal,
    store: o.store,
    connectorFor,
    notifier,
    clock: systemClock,
    owner: o.owner,
    leaseMs: LEASE_MS,
    pollMs: ENGINE_POLL_MS,
    baseApprovals: (run) => demandedPolicy(policyFor(run.cluster), run.plan.approvals).required,
    autoRollback: (run) => policyFor(run.cluster).autoRollback,
    progressReaders: progressReadersOf(runbooks),
  });
  const engine = new Engine({
    shutdown,
    store: o.store,
    executor,
    clock: systemClock,
    owner: o.owner,
    leaseMs: LEASE_MS,
    pollMs: ENGINE_POLL_MS,
    maxConcurrent: 4,
    onError: (err) => o.onError('engine', err),
  });
  const reportService = new ReportService({
    inventory: o.inventory,
    runStore: o.store,
    ...(o.reports && { reports: o.reports }),
    connectorFor: clusterConnectorFor(o.env),
    clock: systemClock,
    runbookIds: runbooks.map((r) => r.id),
    ...(o.onReport && { onReport: o.onReport }),
  });
  const reporter: Reporter = {
    report: (clusters) => reportService.report({ clusters }),
    post: async (surface, channel, report) => {
      await postReport(
        { surface: () => surface, service: reportService, onError: o.onError },
        channel,
        report,
        'problems',
      );
    },
  };
  return {
    reports: reportService,
    deps: {
      inventory: o.inventory,
      env: o.env,
      store: o.store,
      runs,
      clock: systemClock,
      groupsOf: o.groupsOf,
      runbooks,
      connectorFor: clusterConnectorFor(o.env),
      reporter,
    },
    runs,
    executor,
    engine,
    start: async () => {
      const mine = await interruptDeadPredecessors(o.store, o.owner);
      return [...mine, ...(await engine.start())];
    },
  };
}

/** Active runs whose owner is this instance in a process that is gone → interrupted (journaled). */
export async function interruptDeadPredecessors(store: RunStore, owner: string): Promise<Run[]> {
  const active = await store.listRuns({ states: ['running', 'rolling_back'], limit: 1000 });
  const dead = new Set(
    active.flatMap((r) => (r.owner && isDeadPredecessor(r.owner, owner) ? [r.owner] : [])),
  );
  const out: Run[] = [];
  for (const d of dead) out.push(...(await store.interruptOrphans(d)));
  return out;
}
