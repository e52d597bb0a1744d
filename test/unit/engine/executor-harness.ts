import { createHash } from 'node:crypto';
import { systemClock } from '../../../src/adapters/system-clock';
import { sealPlan, type Guard, type SealedPlan, type Step } from '../../../src/core/plan';
import type { Run } from '../../../src/core/run';
import { Executor } from '../../../src/engine/executor';
import type { RunStore } from '../../../src/ports/run-store';
import type { FakeConnector, RecordingNotifier } from './fakes';

// What executor tests share: a one-target plan, a run created, approved and claimed on its own
// cluster (so locks never collide), and an executor wired to the fakes.

export const target = { name: 'n1', host: '192.0.2.1', sshPort: 22, sqlPort: 5432 };
export const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

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

export async function claimed(store: RunStore, p: SealedPlan, prefix = 'h'): Promise<Run> {
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
  const approved = await store.applyEvent(created.run.id, 'approve', { actor: 'U_APP' });
  if (!approved.ok) throw new Error(approved.reason);
  const run = await store.claimNext('test-owner', 10_000);
  if (!run || run.id !== created.run.id) throw new Error('claim');
  return run;
}

export function executorFor(
  store: RunStore,
  connector: FakeConnector,
  notifier: RecordingNotifier,
  options: { autoRollback?: boolean } = {},
): Executor {
  return new Executor({
    store,
    connectorFor: () => connector,
    notifier,
    clock: systemClock,
    owner: 'test-owner',
    leaseMs: 10_000,
    pollMs: 20,
    baseApprovals: () => 1,
    autoRollback: () => options.autoRollback ?? false,
  });
}
