import { createHash } from 'node:crypto';
import { systemClock } from '../../../src/adapters/system-clock';
import {
  sealPlan,
  type Guard,
  type ProgressReader,
  type SealedPlan,
  type Step,
} from '../../../src/core/plan';
import type { Run } from '../../../src/core/run';
import { Executor } from '../../../src/engine/executor';
import type { RunStore } from '../../../src/ports/run-store';
import { addNodeRunbook } from '../../../src/runbooks/add-node/add-node-runbook';
import type { FakeConnector, RecordingNotifier } from './fakes';

// What executor tests share: a one-target plan, a run created, approved and claimed on its own
// cluster (so locks never collide), and an executor wired to the fakes.

export const target = { name: 'n1', host: '192.0.2.1', sshPort: 22, sqlPort: 5432 };
export const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

/** Who claims and executes, and for how long a claim holds, unless a test says otherwise. */
export const OWNER = 'test-owner';
export const LEASE_MS = 10_000;

export const planOf = (steps: Step[], guards?: Guard[]): SealedPlan =>
  sealPlan({
    formatVersion: 1,
    runbook: { id: 'test', version: 1 },
    cluster: 'c1',
    dialect: 'postgresql',
    params: {},
    requester: 'U_REQ',
    createdAt: '2026-11-20T00:00:00.000Z',
    targets: { n1: target },
    snapshot: null,
    ...(guards && { guards }),
    steps,
  });

let seq = 0;

/** Creates and approves a run of `p` on a cluster of its own, left for an engine to claim. */
export async function approved(store: RunStore, p: SealedPlan, prefix = 'h'): Promise<Run> {
  const n = ++seq;
  const sealed = sealPlan({ ...p, cluster: `${prefix}${n}` });
  const created = await store.createRun({ id: `run-${prefix}${n}`, plan: sealed, expiresAt: null });
  if (!created.ok) throw new Error('lock');
  await store.recordApproval({
    runId: created.run.id,
    userId: 'U_APP',
    planHash: sealed.hash,
    decision: 'approve',
  });
  const done = await store.applyEvent(created.run.id, 'approve', { actor: 'U_APP' });
  if (!done.ok) throw new Error(done.reason);
  return created.run;
}

export interface ClaimOptions {
  readonly owner?: string;
  readonly leaseMs?: number;
}

/** Creates, approves and claims a run of `p`, as `owner`'s worker would. */
export async function claimed(
  store: RunStore,
  p: SealedPlan,
  prefix = 'h',
  { owner = OWNER, leaseMs = LEASE_MS }: ClaimOptions = {},
): Promise<Run> {
  const { id } = await approved(store, p, prefix);
  const run = await store.claimNext(owner, leaseMs);
  if (!run || run.id !== id) throw new Error('claim');
  return run;
}

export interface ExecutorOptions extends ClaimOptions {
  readonly autoRollback?: boolean;
  readonly baseApprovals?: number;
  readonly pollMs?: number;
  readonly shutdown?: AbortSignal;
  readonly progressReaders?: Readonly<Record<string, ProgressReader>>;
}

export function executorFor(
  store: RunStore,
  connector: FakeConnector,
  notifier: RecordingNotifier,
  options: ExecutorOptions = {},
): Executor {
  const { autoRollback = false, baseApprovals = 1, shutdown } = options;
  return new Executor({
    store,
    connectorFor: () => connector,
    notifier,
    clock: systemClock,
    owner: options.owner ?? OWNER,
    leaseMs: options.leaseMs ?? LEASE_MS,
    pollMs: options.pollMs ?? 20,
    baseApprovals: () => baseApprovals,
    autoRollback: () => autoRollback,
    // The readers the runbooks contribute (add-node's base backup), as the composition passes them.
    progressReaders: options.progressReaders ?? { ...addNodeRunbook.progress },
    ...(shutdown && { shutdown }),
  });
}
