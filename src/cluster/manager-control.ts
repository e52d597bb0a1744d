import { posix } from 'node:path';
import type { ManagerConfig } from '../config/normalise-inventory';
import type { Action, Condition, Probe } from '../core/plan';
import { POOL_NODES_SQL } from '../probes/pool-nodes';
import { ssh } from './step-builders';

// The cluster manager (pgpool-II or kingbasecluster, a pgpool-II fork with the same command line)
// as a plan drives it, and how a plan sees what it did to it.

export interface ManagerControl {
  /** The manager's binary: <binDir>/pgpool or <binDir>/kingbasecluster. */
  readonly binary: string;
  reload(configFile: string): Action;
  /** A fast stop; exit 1 (not running) counts as done. */
  stop(configFile: string): Action;
  start(configFile: string): Action;
}

export function managerControl(mgr: Pick<ManagerConfig, 'kind' | 'binDir'>): ManagerControl {
  const binary = posix.join(mgr.binDir, mgr.kind === 'pgpool' ? 'pgpool' : 'kingbasecluster');
  return {
    binary,
    reload: (conf) => ssh([binary, '-f', conf, 'reload']),
    stop: (conf) => ssh([binary, '-f', conf, '-m', 'fast', 'stop'], { okExitCodes: [0, 1] }),
    start: (conf) => ssh([binary, '-f', conf]),
  };
}

/** `show pool_nodes` through a pool target: the manager's own view of its backends. */
export const poolNodesQuery: Extract<Probe, { kind: 'sql' }> = {
  kind: 'sql',
  sql: POOL_NODES_SQL,
  params: [],
};

/**
 * The manager runs with backend `index` at `host` in its configuration (whatever that backend's
 * status): true after a reload or restart that read the new backend, and from then on. A manager
 * that does not answer gives no reading at all, never a "no". A backend left listed by an earlier
 * rollback reads as present too (preflight warns about those).
 */
export const poolListsBackend = (index: number, host: string): { probe: Probe; present: Condition } => ({
  probe: poolNodesQuery,
  present: { kind: 'some-row', where: { node_id: String(index), hostname: host } },
});
