import { ClusterConnector } from '../../adapters/cluster-connector';
import type { Inventory } from '../../config/normalise-inventory';
import type { Env } from '../../config/resolve-secret';
import type { SealedPlan } from '../../core/plan';
import type { Failure } from '../../core/run';
import { dialectFor } from '../../dialects/dialect-for';
import type { Connector } from '../../ports/connector';
import { parseAddNodeParams, type AddNodeParams } from './add-node-params';
import { preflightAddNode, preflightPassed, type PreflightCheck } from './add-node-preflight';
import type { AddNodeSnapshot } from './add-node-snapshot';
import { gatherAddNodeSnapshot } from './gather-add-node-snapshot';
import { planAddNode } from './plan-add-node';

// Plan an add-node: check the request, read the cluster (read-only), judge it, and when every
// check passes, build and seal the plan. Front ends (CLI, Slack, console) all come through here.

export type Prepared =
  | { ok: false; failure: Failure }
  | {
      ok: true;
      params: AddNodeParams;
      snapshot: AddNodeSnapshot;
      preflight: readonly PreflightCheck[];
      /** Present only when preflight passed. */
      plan?: SealedPlan;
    };

export interface PrepareOptions {
  readonly inventory: Inventory;
  readonly env: Env;
  readonly requester: string;
  readonly now?: Date;
  readonly connectorFor?: (params: AddNodeParams) => Connector;
}

export async function prepareAddNode(input: unknown, o: PrepareOptions): Promise<Prepared> {
  const parsed = parseAddNodeParams(input, o.inventory.clusters);
  if (!parsed.ok) return parsed;
  const params = parsed.params;
  const dialect = dialectFor(params.cluster.dialect);
  const connector = o.connectorFor?.(params) ?? new ClusterConnector(params.cluster, o.env);
  const now = o.now ?? new Date();
  try {
    const snapshot = await gatherAddNodeSnapshot(params, dialect, connector, now);
    const preflight = preflightAddNode(snapshot, params, dialect);
    if (!preflightPassed(preflight)) return { ok: true, params, snapshot, preflight };
    const plan = planAddNode({ params, dialect, snapshot, requester: o.requester, now });
    return { ok: true, params, snapshot, preflight, plan };
  } finally {
    await connector.close();
  }
}
