import { systemClock } from '../adapters/system-clock';
import type { SealedPlan } from '../core/plan';
import type { Failure, Run } from '../core/run';
import type { Connector } from '../ports/connector';
import type { Notifier } from '../ports/notifier';
import type { RunStore } from '../ports/run-store';
import { Executor } from './executor';
import { RunService } from './run-service';

// One plan run now, in this process, without a Slack approval: for clusters whose inventory
// allows unattended CLI runs (the lab's does), and for tests. The run is journaled and locked
// like any other, so it survives a crash and shows in `runs`.

export interface UnattendedOptions {
  readonly store: RunStore;
  readonly connectorFor: () => Connector;
  readonly notifier: Notifier;
  readonly owner: string;
  readonly rollbackOnFailure: boolean;
  /** Resolves when the run should be cancelled (Ctrl-C). */
  readonly cancelled?: Promise<void>;
  /** Told the run id as soon as it exists. */
  readonly onCreated?: (run: Run) => void;
}

export async function runUnattended(
  plan: SealedPlan,
  o: UnattendedOptions,
): Promise<{ ok: true; run: Run } | { ok: false; failure: Failure }> {
  const service = new RunService({
    store: o.store,
    clock: systemClock,
    policyFor: () => ({
      required: 1,
      approvers: { users: [plan.requester], groups: [] },
      allowSelfApproval: true, // only reached for clusters whose inventory allows unattended runs
      ttlMs: 60 * 60_000,
      autoRollback: o.rollbackOnFailure,
      admins: { users: [], groups: [] },
    }),
    groupsOf: () => [],
    connectorFor: () => o.connectorFor(),
  });
  const submitted = await service.submit(plan);
  if (!submitted.ok) return submitted;
  const id = submitted.run.id;
  o.onCreated?.(submitted.run);
  const voted = await service.vote(id, plan.requester, 'approve', plan.hash);
  if (!voted.ok) return voted;
  const claimed = await o.store.applyEvent(id, 'start', {
    actor: o.owner,
    claim: { owner: o.owner, leaseMs: 60_000 },
  });
  if (!claimed.ok) return { ok: false, failure: { code: 'illegal', message: claimed.reason } };
  const executor = new Executor({
    store: o.store,
    connectorFor: () => o.connectorFor(),
    notifier: o.notifier,
    clock: systemClock,
    owner: o.owner,
    leaseMs: 60_000,
    pollMs: 500,
    baseApprovals: () => 1,
    autoRollback: () => o.rollbackOnFailure,
  });
  void o.cancelled?.then(() => service.cancel(id, 'cli:interrupt'));
  return { ok: true, run: await executor.execute(claimed.run) };
}
