import { isApprover, type ApprovalPolicy } from '../core/approval-policy';
import type { Json } from '../core/json';
import type { SealedPlan } from '../core/plan';
import type { Failure, Run } from '../core/run';
import type { RunStore } from '../ports/run-store';
import type { Executor } from './executor';
import type { RunService } from './run-service';

// One plan run now, in this process: for clusters whose inventory allows unattended CLI runs (the
// lab's does), and for tests. The run is journaled and locked like any other, so it survives a
// crash and shows in `runs`. Its requester alone approves it, unless its runbook demands more than
// one approver or excludes the requester: then the approvers must be named (`--approve-as`), and
// each vote goes through RunService.vote, so the checks a click in Slack gets apply to it too.

export interface UnattendedOptions {
  /**
   * Composed for unattended runs (composeRuns' `unattended`): with the requester as the only
   * approver, or, when `approvers` are named, with the cluster's approvers.
   */
  readonly runs: RunService;
  readonly executor: Executor;
  readonly store: RunStore;
  readonly owner: string;
  readonly meta?: Record<string, Json>;
  /** Resolves when the run should be cancelled (Ctrl-C). */
  readonly cancelled?: Promise<void>;
  /** Told the run id as soon as it exists. */
  readonly onCreated?: (run: Run) => void;
  /** The people who approve, named on the command line; absent or empty: the requester. */
  readonly approvers?: readonly string[];
  /** Group membership for the check of the named approvers (the CLI has no Slack to ask: none). */
  readonly groupsOf?: (user: string) => readonly string[];
}

const approversWord = (n: number): string => `${n} distinct approver${n === 1 ? '' : 's'}`;

/**
 * Why `plan` cannot run with `approvers` under `policy` (its effective policy, RunService.policyOf),
 * checked before anything is stored; undefined when it can. The votes are checked again when cast.
 */
export function approverRefusal(
  plan: SealedPlan,
  policy: ApprovalPolicy,
  approvers: readonly string[],
  groupsOf: (user: string) => readonly string[] = () => [],
): Failure | undefined {
  const needs = `${plan.runbook.id} needs ${approversWord(policy.required)}${policy.allowSelfApproval ? '' : ' other than its requester'}`;
  const hint = `each named approver must be among ${plan.cluster}'s approvers (access.approvers); or request it in Slack, where the approvers can press Approve`;
  if (approvers.length === 0)
    return policy.required <= 1 && policy.allowSelfApproval
      ? undefined
      : {
          code: 'needs-approvers',
          message: `${needs}: name them with --approve-as <user>, once per approver`,
          hint,
        };
  const twice = approvers.find((u, i) => approvers.indexOf(u) !== i);
  if (twice !== undefined)
    return {
      code: 'duplicate-approver',
      message: `${twice} is named twice with --approve-as: an approver counts once`,
      hint,
    };
  if (!policy.allowSelfApproval && approvers.includes(plan.requester))
    return {
      code: 'self-approval',
      message: `${plan.requester} requested this run, and ${plan.runbook.id} does not let its requester approve`,
      hint,
    };
  const outsiders = approvers.filter((u) => !isApprover(policy, { groupsOf }, u));
  if (outsiders.length > 0)
    return {
      code: 'not-approver',
      message: `${outsiders.join(', ')} ${outsiders.length === 1 ? 'is' : 'are'} not among ${plan.cluster}'s approvers`,
      hint,
    };
  if (approvers.length < policy.required)
    return {
      code: 'needs-approvers',
      message: `${needs}, but --approve-as named only ${approvers.length}`,
      hint,
    };
  return undefined;
}

export async function runUnattended(
  plan: SealedPlan,
  o: UnattendedOptions,
): Promise<{ ok: true; run: Run } | { ok: false; failure: Failure }> {
  const approvers = o.approvers ?? [];
  const refused = approverRefusal(plan, o.runs.policyOf(plan), approvers, o.groupsOf);
  if (refused) return { ok: false, failure: refused };
  const submitted = await o.runs.submit(plan, o.meta);
  if (!submitted.ok) return submitted;
  const id = submitted.run.id;
  o.onCreated?.(submitted.run);
  for (const who of approvers.length > 0 ? approvers : [plan.requester]) {
    const voted = await o.runs.vote(id, who, 'approve', plan.hash);
    if (!voted.ok) {
      // Refused on the server side after all: withdraw the run so it does not hold the cluster.
      await o.runs.cancel(id, o.owner);
      return voted;
    }
  }
  const claimed = await o.store.applyEvent(id, 'start', {
    actor: o.owner,
    claim: { owner: o.owner, leaseMs: 60_000 },
  });
  if (!claimed.ok) return { ok: false, failure: { code: 'illegal', message: claimed.reason } };
  void o.cancelled?.then(() => o.runs.cancel(id, 'cli:interrupt'));
  return { ok: true, run: await o.executor.execute(claimed.run) };
}
