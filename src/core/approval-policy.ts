import type { Failure } from './run';
import type { RunState } from './run-state';

// Who may approve a plan, how many must, and for how long the plan may wait. Votes bind to the plan
// hash: re-planning changes the hash, and approvals given for an older plan count for nothing.
//
// Rejecting is open to every approver and to the requester (withdrawing their own plan), even when
// self-approval is off: stopping a change never needs a second person. One rejection ends the run.

export interface ApprovalPolicy {
  /** Distinct approvals every run needs (a step may ask for more: Step.approvals). */
  required: number;
  /** Slack user ids, and user-group ids whose members may approve. */
  approvers: { users: readonly string[]; groups: readonly string[] };
  allowSelfApproval: boolean;
  /** How long a plan may wait for its approvals; Infinity: no deadline. */
  ttlMs: number;
}

/** The inventory's policy raised to what a plan demands; never lowered. */
export function demandedPolicy<P extends ApprovalPolicy>(
  policy: P,
  demand: { readonly min: number; readonly requesterExcluded: boolean } | undefined,
): P {
  if (!demand) return policy;
  return {
    ...policy,
    required: Math.max(policy.required, demand.min),
    allowSelfApproval: policy.allowSelfApproval && !demand.requesterExcluded,
  };
}

/** A stored vote; ports/run-store's ApprovalRecord has this shape (core may not import ports). */
export interface ApprovalVote {
  readonly userId: string;
  readonly planHash: string;
  readonly decision: 'approve' | 'reject';
}

export interface TallyContext {
  readonly requester: string;
  /** Hash of the plan as it is now. */
  readonly planHash: string;
  /** Approvals needed now (≥ policy.required), e.g. from approvalsNeededAt for the next step. */
  readonly needed: number;
  readonly groupsOf: (userId: string) => readonly string[];
}

export interface VoteContext extends TallyContext {
  /** When the approval window opened (ISO). */
  readonly createdAt: string;
  readonly now: Date;
  readonly state: RunState;
}

export interface Tally {
  /** Distinct users whose approval of the current plan counts, in voting order. */
  readonly approvers: string[];
  readonly count: number;
  readonly needed: number;
  /** Enough approvals and no rejection. */
  readonly satisfied: boolean;
  /** The first user who rejected the current plan: the run must end. */
  readonly rejectedBy?: string;
}

export type VoteDecision = { ok: true; record: ApprovalVote; tally: Tally } | { ok: false; failure: Failure };

/** Decides whether a vote counts; on success, `record` is what to store and `tally` includes it. */
export function decideVote(
  policy: ApprovalPolicy,
  ctx: VoteContext,
  existing: readonly ApprovalVote[],
  vote: ApprovalVote,
): VoteDecision {
  const refuse = (code: string, message: string, hint?: string): VoteDecision => ({
    ok: false,
    failure: hint === undefined ? { code, message } : { code, message, hint },
  });

  if (ctx.state !== 'awaiting_approval' && ctx.state !== 'approved')
    return refuse(
      'not-awaiting',
      `This run is ${ctx.state.replaceAll('_', ' ')}: it is no longer waiting for approval.`,
      'Nothing to approve here. If the change is still wanted, plan it again.',
    );

  const deadline = Date.parse(ctx.createdAt) + policy.ttlMs;
  // An unreadable start time fails closed: better to re-plan than to approve without a deadline.
  if (Number.isNaN(deadline) || ctx.now.getTime() >= deadline)
    return refuse(
      'expired',
      Number.isNaN(deadline)
        ? 'This plan has no valid approval deadline, so it cannot be approved.'
        : `This plan expired at ${new Date(deadline).toISOString()}: approvals are no longer accepted.`,
      'Ask the requester to plan the change again.',
    );

  if (vote.planHash !== ctx.planHash)
    return refuse(
      'plan-changed',
      `This button belongs to an older version of the plan (${vote.planHash.slice(0, 12)}); the plan is now ${ctx.planHash.slice(0, 12)}.`,
      'Read the current plan in the thread and vote on that one: earlier approvals were discarded.',
    );

  const withdrawing = vote.decision === 'reject' && vote.userId === ctx.requester;
  if (!withdrawing && !isApprover(policy, ctx, vote.userId))
    return refuse(
      'not-approver',
      `You are not an approver for this cluster, so you cannot ${vote.decision} this plan.`,
      `Ask one of the approvers (${approverList(policy)}) to review it.`,
    );

  if (vote.decision === 'approve' && vote.userId === ctx.requester && !policy.allowSelfApproval)
    return refuse(
      'self-approval',
      'You requested this run; another approver must approve it.',
      'You can still reject it to withdraw it.',
    );

  if (
    vote.decision === 'approve' &&
    existing.some((v) => v.userId === vote.userId && v.planHash === vote.planHash && v.decision === 'approve')
  ) {
    const t = tally(policy, ctx, existing);
    const more = Math.max(0, t.needed - t.count);
    return refuse(
      'already-approved',
      'You have already approved this plan.',
      more > 0
        ? `It needs ${more} more approval${more === 1 ? '' : 's'} from someone else.`
        : 'It has all the approvals it needs.',
    );
  }

  const record: ApprovalVote = { userId: vote.userId, planHash: vote.planHash, decision: vote.decision };
  return { ok: true, record, tally: tally(policy, ctx, [...existing, record]) };
}

/** Counts the votes that hold for the current plan under the policy as it is now. */
export function tally(policy: ApprovalPolicy, ctx: TallyContext, existing: readonly ApprovalVote[]): Tally {
  const needed = Math.max(policy.required, ctx.needed);
  const approvers: string[] = [];
  let rejectedBy: string | undefined;
  for (const v of existing) {
    if (v.planHash !== ctx.planHash) continue;
    if (v.decision === 'reject') {
      if (rejectedBy === undefined && (v.userId === ctx.requester || isApprover(policy, ctx, v.userId)))
        rejectedBy = v.userId;
      continue;
    }
    if (approvers.includes(v.userId) || !isApprover(policy, ctx, v.userId)) continue;
    if (v.userId === ctx.requester && !policy.allowSelfApproval) continue;
    approvers.push(v.userId);
  }
  const count = approvers.length;
  const base = { approvers, count, needed, satisfied: count >= needed && rejectedBy === undefined };
  return rejectedBy === undefined ? base : { ...base, rejectedBy };
}

export function isApprover(
  policy: ApprovalPolicy,
  ctx: Pick<TallyContext, 'groupsOf'>,
  userId: string,
): boolean {
  if (policy.approvers.users.includes(userId)) return true;
  const groups = ctx.groupsOf(userId);
  return policy.approvers.groups.some((g) => groups.includes(g));
}

/** What is wrong with a policy (empty: fine). Checked at start-up so a bad policy never blocks a run. */
export function policyProblems(policy: ApprovalPolicy): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(policy.required) || policy.required < 1)
    problems.push(`required approvals must be a whole number of at least 1 (got ${policy.required})`);
  const users = new Set(policy.approvers.users).size;
  const groups = policy.approvers.groups.length;
  if (users === 0 && groups === 0)
    problems.push('nobody can approve: list at least one approver user or group');
  // A group's size is unknown here, so only a users-only list can be counted.
  else if (groups === 0 && users < policy.required)
    problems.push(
      `${policy.required} approvals are required but only ${users} approver${users === 1 ? ' is' : 's are'} listed${policy.allowSelfApproval ? '' : ' (and self-approval is off)'}: no run could ever be approved`,
    );
  if (!(policy.ttlMs > 0)) problems.push(`the approval time limit must be positive (got ${policy.ttlMs} ms)`);
  return problems;
}

function approverList(policy: ApprovalPolicy): string {
  const parts = [
    ...policy.approvers.users.map((u) => `<@${u}>`),
    ...policy.approvers.groups.map((g) => `<!subteam^${g}>`),
  ];
  return parts.length === 0 ? 'none are configured' : parts.join(', ');
}
