import type { Json } from '../core/json';
import type { SealedPlan } from '../core/plan';
import type { Failure, Run } from '../core/run';
import type { RunStore } from '../ports/run-store';
import type { Executor } from './executor';
import type { RunService } from './run-service';

// One plan run now, in this process, approved by its requester alone: for clusters whose inventory
// allows unattended CLI runs (the lab's does), and for tests. The run is journaled and locked like
// any other, so it survives a crash and shows in `runs`. A plan whose runbook demands more than
// one approver, or excludes its requester, is refused here: nobody else is at the terminal.

export interface UnattendedOptions {
  /** Composed with the requester as the only approver (composeRuns' `unattended`). */
  readonly runs: RunService;
  readonly executor: Executor;
  readonly store: RunStore;
  readonly owner: string;
  readonly meta?: Record<string, Json>;
  /** Resolves when the run should be cancelled (Ctrl-C). */
  readonly cancelled?: Promise<void>;
  /** Told the run id as soon as it exists. */
  readonly onCreated?: (run: Run) => void;
}

export async function runUnattended(
  plan: SealedPlan,
  o: UnattendedOptions,
): Promise<{ ok: true; run: Run } | { ok: false; failure: Failure }> {
  const policy = o.runs.policyOf(plan);
  if (policy.required > 1 || !policy.allowSelfApproval)
    return {
      ok: false,
      failure: {
        code: 'needs-approvers',
        message: `${plan.runbook.id} needs ${policy.required} distinct approver(s)${policy.allowSelfApproval ? '' : ' other than its requester'}: it cannot run unattended`,
        hint: 'request it in Slack, where the approvers can press Approve',
      },
    };
  const submitted = await o.runs.submit(plan, o.meta);
  if (!submitted.ok) return submitted;
  const id = submitted.run.id;
  o.onCreated?.(submitted.run);
  const voted = await o.runs.vote(id, plan.requester, 'approve', plan.hash);
  if (!voted.ok) return voted;
  const claimed = await o.store.applyEvent(id, 'start', {
    actor: o.owner,
    claim: { owner: o.owner, leaseMs: 60_000 },
  });
  if (!claimed.ok) return { ok: false, failure: { code: 'illegal', message: claimed.reason } };
  void o.cancelled?.then(() => o.runs.cancel(id, 'cli:interrupt'));
  return { ok: true, run: await o.executor.execute(claimed.run) };
}
