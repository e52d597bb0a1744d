import type { ApprovalPolicy, Tally } from '../core/approval-policy';
import type { Check } from '../core/check';
import type { Run } from '../core/run';
import type { RunService } from '../engine/run-service';
import type { Clock } from '../ports/clock';
import { approvalDemandText, planRootMessage as renderRoot } from '../render/plan-message';
import type { StepProgress } from '../render/run-progress';
import type { ChatMessage } from './chat-surface';

// The thread's root message, drawn from the run and what its meta keeps (preflight, approvals), so
// any process can redraw it at any time.

export function rootFromMeta(run: Run): { preflight: Check[]; tally: Tally | null } {
  const pf = Array.isArray(run.meta.preflight) ? (run.meta.preflight as unknown as Check[]) : [];
  const approvers = Array.isArray(run.meta.approvedBy) ? (run.meta.approvedBy as string[]) : [];
  return {
    preflight: pf,
    tally:
      approvers.length === 0
        ? null
        : { approvers, count: approvers.length, needed: approvers.length, satisfied: true },
  };
}

export interface RootExtras {
  /** Votes on the current plan; absent: the approvers the run's meta recorded. */
  readonly tally?: Tally | null;
  /**
   * The run's effective policy (RunService.policyOf: the inventory's, raised by the plan's demand),
   * so the root says how many approvals the run needs and whether its requester may give one.
   */
  readonly policy?: Pick<ApprovalPolicy, 'required' | 'allowSelfApproval'>;
  readonly progress?: StepProgress;
}

export function rootMessage(run: Run, now: Date, extras: RootExtras = {}): ChatMessage {
  const meta = rootFromMeta(run);
  return renderRoot({
    run,
    preflight: meta.preflight,
    tally: extras.tally === undefined ? meta.tally : extras.tally,
    now,
    ...(extras.policy && { policyText: approvalDemandText(extras.policy) }),
    ...(extras.progress && { progress: extras.progress }),
  });
}

/** The root as it should look now: the votes counted and the policy read from the run service. */
export async function currentRoot(
  run: Run,
  deps: { readonly runs: RunService; readonly clock: Clock },
): Promise<ChatMessage> {
  return rootMessage(run, deps.clock.now(), {
    tally: await deps.runs.tally(run),
    policy: deps.runs.policyOf(run.plan),
  });
}
