import { ClusterConnector } from '../adapters/cluster-connector';
import { systemClock } from '../adapters/system-clock';
import type { Inventory } from '../config/normalise-inventory';
import type { Env } from '../config/resolve-secret';
import type { ChatSurface } from '../chatops/chat-surface';
import type { ChatopsDeps } from '../chatops/chatops';
import { runPolicyFor, type GroupsOf } from '../chatops/cluster-access';
import { ThreadNotifier } from '../chatops/thread-notifier';
import { Engine } from '../engine/engine';
import { Executor } from '../engine/executor';
import { RunService } from '../engine/run-service';
import type { Run } from '../core/run';
import type { RunStore } from '../ports/run-store';
import { isDeadPredecessor } from './instance-id';

// What every front end needs behind its commands: the run service with each cluster's policy, and
// the engine that executes approved runs and tells their thread on `surface`.

/** How often the engine looks for work (the health check allows a few missed rounds). */
export const ENGINE_POLL_MS = 500;

export interface ComposedRuns {
  readonly deps: ChatopsDeps;
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
  /** Late-bound: the Slack surface needs the app's client, created after the commands' deps. */
  readonly surface: () => ChatSurface;
  /** This process as the owner of the runs it executes: unique per process (newInstanceId). */
  readonly owner: string;
  readonly onError: (what: string, err: unknown) => void;
}

export function composeRuns(o: ComposeOptions): ComposedRuns {
  const clusterOf = (name: string) => {
    const c = o.inventory.clusters[name];
    if (!c) throw new Error(`no cluster ${name} in the inventory`);
    return c;
  };
  const connectorFor = (run: { cluster: string }) => new ClusterConnector(clusterOf(run.cluster), o.env);
  const runs = new RunService({
    store: o.store,
    clock: systemClock,
    policyFor: (c) => runPolicyFor(clusterOf(c)),
    groupsOf: o.groupsOf,
    connectorFor,
  });
  const notifier = {
    notify: (...args: Parameters<ThreadNotifier['notify']>) => thread().notify(...args),
  };
  let threadNotifier: ThreadNotifier | undefined;
  const thread = () =>
    (threadNotifier ??= new ThreadNotifier(o.surface(), systemClock, (err) => o.onError('thread', err)));
  // One switch for SIGTERM: the engine flips it, every execution stops at its current step.
  const shutdown = new AbortController();
  const executor = new Executor({
    shutdown: shutdown.signal,
    store: o.store,
    connectorFor,
    notifier,
    clock: systemClock,
    owner: o.owner,
    leaseMs: 30_000,
    pollMs: 500,
    baseApprovals: (run) => runPolicyFor(clusterOf(run.cluster)).required,
    autoRollback: (run) => clusterOf(run.cluster).access.autoRollback,
  });
  const engine = new Engine({
    shutdown,
    store: o.store,
    executor,
    clock: systemClock,
    owner: o.owner,
    leaseMs: 30_000,
    pollMs: ENGINE_POLL_MS,
    maxConcurrent: 4,
    onError: (err) => o.onError('engine', err),
  });
  return {
    deps: {
      inventory: o.inventory,
      env: o.env,
      store: o.store,
      runs,
      clock: systemClock,
      groupsOf: o.groupsOf,
    },
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
