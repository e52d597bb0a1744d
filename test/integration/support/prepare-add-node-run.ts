import { ClusterConnector } from '../../../src/adapters/cluster-connector';
import type { Inventory } from '../../../src/config/normalise-inventory';
import type { Env } from '../../../src/config/resolve-secret';
import { addNodeRunbook } from '../../../src/runbooks/add-node/add-node-runbook';
import { prepareRun, type PrepareOptions, type Prepared } from '../../../src/runbooks/prepare-run';

// add-node planned as every front end plans it (prepareRun), reaching the lab through real SSH and
// SQL connections unless a test gives its own.

export async function prepareAddNodeRun(
  input: Record<string, unknown>,
  o: {
    readonly inventory: Inventory;
    readonly requester: string;
    readonly env?: Env;
    readonly now?: Date;
    readonly connectorFor?: PrepareOptions['connectorFor'];
  },
): Promise<Prepared> {
  const env = o.env ?? process.env;
  return prepareRun(addNodeRunbook, input, {
    inventory: o.inventory,
    requester: o.requester,
    ...(o.now !== undefined && { now: o.now }),
    connectorFor: o.connectorFor ?? ((cluster) => new ClusterConnector(cluster, env)),
  });
}
