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
import type { RunStore } from '../ports/run-store';

// What every front end needs behind its commands: the run service with each cluster's policy, and
// the engine that executes approved runs and tells their thread on `surface`.

export interface ComposedRuns {
  readonly deps: ChatopsDeps;
  readonly engine: Engine;
}

export interface ComposeOptions {
  readonly inventory: Inventory;
  readonly env: Env;
  readonly store: RunStore;
  readonly groupsOf: GroupsOf;
  /** Late-bound: the Slack surface needs the app's client, created after the commands' deps. */
  readonly surface: () => ChatSurface;
  /** This process as the owner of the runs it executes (stable across restarts). */
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
  const executor = new Executor({
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
    store: o.store,
    executor,
    clock: systemClock,
    owner: o.owner,
    leaseMs: 30_000,
    pollMs: 500,
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
  };
}
