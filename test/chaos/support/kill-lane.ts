import { Client } from 'pg';
import { systemClock } from '../../../src/adapters/system-clock';
import { ClusterConnector } from '../../../src/adapters/cluster-connector';
import type { SealedPlan } from '../../../src/core/plan';
import { RunService } from '../../../src/engine/run-service';
import type { RunStore } from '../../../src/ports/run-store';
import { prepareAddNodeRun } from '../../integration/support/prepare-add-node-run';
import { createRunStore } from '../../../src/store/create-run-store';
import { startPrivateLab, type PrivateLab } from '../../integration/support/private-lab';
import type { Release } from './lab-base-lock';

// One private lab that kill-every-step works its cases through, and what a case needs around it:
// a fresh plan, a state database of its own, the run service, a reset to the lab's first state.

export interface Lane {
  readonly base: number;
  readonly name: string;
  /** The same in both processes of a case: the second is the first one restarted. */
  readonly owner: string;
  pl: PrivateLab | undefined;
  /** The ids of this lab's plan, as first read: every case's plan must have the same. */
  planIds: readonly string[];
  readonly release: Release;
}

export const labOf = (lane: Lane) => lane.pl!.lab;
export const newHostOf = (lane: Lane) => labOf(lane).hosts[2];

export async function freshPlan(lane: Lane): Promise<SealedPlan> {
  const r = await prepareAddNodeRun(
    { cluster: 'lab', host: newHostOf(lane).address },
    { inventory: lane.pl!.inventory, requester: 'U_REQ' },
  );
  if (!r.ok) throw new Error(`prepareAddNodeRun: ${r.failure.message}`);
  const failed = r.preflight.filter((c) => c.status === 'fail');
  if (!r.plan || failed.length > 0) throw new Error(`preflight failed: ${JSON.stringify(failed)}`);
  return r.plan;
}

let caseNo = 0;

/** Every case gets a database of its own on the throwaway server: no lock or run carries over. */
export async function caseStore(pgUrl: string): Promise<{ url: string; store: RunStore }> {
  const db = `chaos_case_${process.pid}_${++caseNo}`;
  const admin = new Client({ connectionString: pgUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${db}`);
  } finally {
    await admin.end();
  }
  const url = pgUrl.replace(/\/postgres$/, `/${db}`);
  return { url, store: await createRunStore({ databaseUrl: url }) };
}

export function serviceOn(store: RunStore, lane: Lane): RunService {
  return new RunService({
    store,
    clock: systemClock,
    policyFor: () => ({
      required: 1,
      approvers: { users: ['U_APPROVER'], groups: [] },
      allowSelfApproval: false,
      ttlMs: 3_600_000,
      autoRollback: false,
      admins: { users: [], groups: [] },
    }),
    groupsOf: () => [],
    connectorFor: () => new ClusterConnector(lane.pl!.cluster, process.env),
  });
}

/** Back to the lab's first state (an empty new host): cheaper and surer than undoing by hand. */
export async function resetLab(lane: Lane): Promise<void> {
  await lane.pl!.stop();
  lane.pl = await startPrivateLab(lane.base, lane.name);
}
