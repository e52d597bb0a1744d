import type { Runbook } from '../runbook';
import { addNodeInputSchema, resolveAddNodeParams, type AddNodeParams } from './add-node-params';
import { preflightAddNode } from './add-node-preflight';
import type { AddNodeSnapshot } from './add-node-snapshot';
import { parseBasebackupProgress } from './basebackup-progress';
import { gatherAddNodeSnapshot } from './gather-add-node-snapshot';
import { planAddNode, RUNBOOK } from './plan-add-node';

// add-node as the runbook contract describes it: a new streaming standby, then the cluster
// manager told about it (../shared/procedure §3–4).

/** "add srv13 (127.0.0.13) to lab"; the host alone when the node is named after it. */
export const addNodeSubject = (p: Pick<AddNodeParams, 'name' | 'host' | 'cluster'>): string =>
  `add ${p.name}${p.name !== p.host ? ` (${p.host})` : ''} to ${p.cluster.name}`;

export const addNodeRunbook: Runbook<AddNodeParams, AddNodeSnapshot> = {
  id: RUNBOOK.id,
  version: RUNBOOK.version,
  summary: 'add a streaming standby to a cluster and tell its cluster manager',
  form: { title: 'Add a data node', submit: 'Plan it' },
  input: addNodeInputSchema,
  resolve: resolveAddNodeParams,
  gather: (params, { dialect, connector, now }) => gatherAddNodeSnapshot(params, dialect, connector, now),
  preflight: (facts, params, dialect) => preflightAddNode(facts, params, dialect),
  plan: ({ params, facts, dialect, requester, now }) =>
    planAddNode({ params, dialect, snapshot: facts, requester, now }),
  subject: addNodeSubject,
  progress: { basebackup: parseBasebackupProgress },
};
