import {
  decideVote,
  policyProblems,
  tally,
  type ApprovalPolicy,
  type ApprovalVote,
  type VoteContext,
} from '../../../src/core/approval-policy';
import { approvalsNeededAt, type Plan } from '../../../src/core/plan';
import { RUN_STATES } from '../../../src/core/run-state';
import type { ApprovalRecord } from '../../../src/ports/run-store';

const H1 = '1'.repeat(64);
const H2 = '2'.repeat(64);
const HOUR = 3_600_000;

const policy = (over: Partial<ApprovalPolicy> = {}): ApprovalPolicy => ({
  required: 1,
  approvers: { users: ['UALICE', 'UBOB', 'UREQ'], groups: ['SDBA'] },
  allowSelfApproval: false,
  ttlMs: HOUR,
  ...over,
});

const GROUPS: Record<string, string[]> = { UCAROL: ['SDBA', 'SOTHER'], UDAN: ['SOTHER'] };

const ctx = (over: Partial<VoteContext> = {}): VoteContext => ({
  requester: 'UREQ',
  planHash: H1,
  createdAt: '2024-05-01T10:00:00.000Z',
  now: new Date('2024-05-01T10:30:00.000Z'),
  needed: 1,
  groupsOf: (u) => GROUPS[u] ?? [],
  state: 'awaiting_approval',
  ...over,
});

const approve = (userId: string, planHash = H1): ApprovalVote => ({ userId, planHash, decision: 'approve' });
const reject = (userId: string, planHash = H1): ApprovalVote => ({ userId, planHash, decision: 'reject' });

function refused(...args: Parameters<typeof decideVote>): { code: string; message: string; hint?: string } {
  const r = decideVote(...args);
  if (r.ok) throw new Error('expected the vote to be refused');
  return r.failure;
}

function accepted(...args: Parameters<typeof decideVote>) {
  const r = decideVote(...args);
  if (!r.ok) throw new Error(`refused: ${r.failure.code} ${r.failure.message}`);
  return r;
}

describe('decideVote', () => {
  it('accepts an approver and returns the record to store and the tally including it', () => {
    const r = accepted(policy(), ctx(), [], approve('UALICE'));
    expect(r.record).toEqual({ userId: 'UALICE', planHash: H1, decision: 'approve' });
    expect(r.tally).toEqual({ approvers: ['UALICE'], count: 1, needed: 1, satisfied: true });
  });

  it('refuses self-approval with a message saying what to do', () => {
    const f = refused(policy(), ctx(), [], approve('UREQ'));
    expect(f).toEqual({
      code: 'self-approval',
      message: 'You requested this run; another approver must approve it.',
      hint: 'You can still reject it to withdraw it.',
    });
  });

  it('allows self-approval when the policy does', () => {
    expect(accepted(policy({ allowSelfApproval: true }), ctx(), [], approve('UREQ')).tally.satisfied).toBe(
      true,
    );
  });

  it('lets the requester reject (withdraw) their own plan, even when not an approver', () => {
    const r = accepted(policy({ approvers: { users: ['UALICE'], groups: [] } }), ctx(), [], reject('UREQ'));
    expect(r.tally.rejectedBy).toBe('UREQ');
    expect(r.tally.satisfied).toBe(false);
  });

  it('refuses the same person approving twice, saying how many are still needed', () => {
    const f = refused(policy({ required: 2 }), ctx({ needed: 2 }), [approve('UALICE')], approve('UALICE'));
    expect(f.code).toBe('already-approved');
    expect(f.message).toBe('You have already approved this plan.');
    expect(f.hint).toBe('It needs 1 more approval from someone else.');
    expect(refused(policy(), ctx(), [approve('UALICE')], approve('UALICE')).hint).toBe(
      'It has all the approvals it needs.',
    );
  });

  it('accepts someone who approved an older plan approving the current one', () => {
    expect(accepted(policy(), ctx(), [approve('UALICE', H2)], approve('UALICE')).tally.count).toBe(1);
  });

  it('refuses non-members, naming who can approve', () => {
    const f = refused(policy(), ctx(), [], approve('UDAN'));
    expect(f.code).toBe('not-approver');
    expect(f.message).toBe('You are not an approver for this cluster, so you cannot approve this plan.');
    expect(f.hint).toBe(
      'Ask one of the approvers (<@UALICE>, <@UBOB>, <@UREQ>, <!subteam^SDBA>) to review it.',
    );
    expect(refused(policy(), ctx(), [], reject('UDAN')).code).toBe('not-approver');
  });

  it('accepts a member of an approver group', () => {
    expect(accepted(policy(), ctx(), [], approve('UCAROL')).tally.approvers).toEqual(['UCAROL']);
  });

  it('refuses votes once the approval window has closed', () => {
    const f = refused(policy(), ctx({ now: new Date('2024-05-01T11:00:00.000Z') }), [], approve('UALICE'));
    expect(f.code).toBe('expired');
    expect(f.message).toBe(
      'This plan expired at 2024-05-01T11:00:00.000Z: approvals are no longer accepted.',
    );
    expect(f.hint).toBe('Ask the requester to plan the change again.');
    // One millisecond before the deadline is still fine.
    expect(
      decideVote(policy(), ctx({ now: new Date('2024-05-01T10:59:59.999Z') }), [], approve('UALICE')).ok,
    ).toBe(true);
  });

  it('never expires with an infinite TTL, and fails closed on an unreadable start time', () => {
    const late = ctx({ now: new Date('2030-01-01T00:00:00.000Z') });
    expect(decideVote(policy({ ttlMs: Infinity }), late, [], approve('UALICE')).ok).toBe(true);
    expect(refused(policy(), ctx({ createdAt: 'yesterday' }), [], approve('UALICE')).code).toBe('expired');
  });

  it('refuses a vote for another plan hash (a button from before a re-plan)', () => {
    const f = refused(policy(), ctx(), [], approve('UALICE', H2));
    expect(f.code).toBe('plan-changed');
    expect(f.message).toBe(
      'This button belongs to an older version of the plan (222222222222); the plan is now 111111111111.',
    );
    expect(f.hint).toMatch(/vote on that one: earlier approvals were discarded/);
  });

  it('refuses votes unless the run awaits approval (or is approved, not yet started)', () => {
    for (const state of RUN_STATES) {
      const r = decideVote(policy(), ctx({ state }), [], approve('UALICE'));
      const open = state === 'awaiting_approval' || state === 'approved';
      expect([state, r.ok]).toEqual([state, open]);
      if (!r.ok) expect(r.failure.code).toBe('not-awaiting');
    }
    expect(refused(policy(), ctx({ state: 'rolled_back' }), [], approve('UALICE')).message).toBe(
      'This run is rolled back: it is no longer waiting for approval.',
    );
  });

  it('checks in a useful order: a closed run before the hash, the hash before membership', () => {
    expect(refused(policy(), ctx({ state: 'succeeded' }), [], approve('UDAN', H2)).code).toBe('not-awaiting');
    expect(refused(policy(), ctx(), [], approve('UDAN', H2)).code).toBe('plan-changed');
  });

  it('needs two distinct approvers for 2-of-N', () => {
    const p = policy({ required: 2 });
    const first = accepted(p, ctx({ needed: 2 }), [], approve('UALICE'));
    expect(first.tally).toMatchObject({ count: 1, needed: 2, satisfied: false });
    const second = accepted(p, ctx({ needed: 2 }), [first.record], approve('UCAROL'));
    expect(second.tally).toEqual({ approvers: ['UALICE', 'UCAROL'], count: 2, needed: 2, satisfied: true });
  });

  it('honours a step that raises the approvals needed above the policy', () => {
    const plan = { steps: [{}, { approvals: 2 }] } as unknown as Plan;
    const needed = approvalsNeededAt(plan, 1, 1);
    expect(needed).toBe(2);
    const r = accepted(
      policy(),
      ctx({ needed, state: 'awaiting_approval' }),
      [approve('UALICE')],
      approve('UBOB'),
    );
    expect(r.tally).toMatchObject({ count: 2, needed: 2, satisfied: true });
    expect(accepted(policy(), ctx({ needed }), [], approve('UBOB')).tally.satisfied).toBe(false);
    // `needed` is never below the policy's own requirement.
    expect(accepted(policy({ required: 2 }), ctx({ needed: 1 }), [], approve('UBOB')).tally.needed).toBe(2);
  });

  it('ends the run on one rejection by an approver, whatever the approvals', () => {
    const r = accepted(policy(), ctx(), [approve('UALICE')], reject('UBOB'));
    expect(r.record.decision).toBe('reject');
    expect(r.tally).toEqual({
      approvers: ['UALICE'],
      count: 1,
      needed: 1,
      satisfied: false,
      rejectedBy: 'UBOB',
    });
  });

  it('accepts ApprovalRecords from the store as existing votes', () => {
    const stored: ApprovalRecord[] = [
      { runId: 'r1', userId: 'UALICE', planHash: H1, decision: 'approve', at: '2024-05-01T10:10:00.000Z' },
    ];
    expect(accepted(policy({ required: 2 }), ctx(), stored, approve('UBOB')).tally.count).toBe(2);
  });
});

describe('tally', () => {
  it('ignores approvals for an old hash', () => {
    const t = tally(policy({ required: 2 }), ctx(), [
      approve('UALICE', H2),
      approve('UBOB', H2),
      approve('UCAROL'),
    ]);
    expect(t).toEqual({ approvers: ['UCAROL'], count: 1, needed: 2, satisfied: false });
  });

  it('ignores a rejection for an old hash', () => {
    expect(tally(policy(), ctx(), [reject('UBOB', H2), approve('UALICE')]).satisfied).toBe(true);
  });

  it('counts each person once, in voting order, and only votes valid under the policy now', () => {
    const t = tally(policy({ required: 3 }), ctx(), [
      approve('UBOB'),
      approve('UALICE'),
      approve('UBOB'),
      approve('UREQ'), // self-approval is off
      approve('UDAN'), // not (or no longer) an approver
    ]);
    expect(t.approvers).toEqual(['UBOB', 'UALICE']);
    expect(t.count).toBe(2);
  });

  it('keeps the first valid rejection and ignores one by a non-approver', () => {
    expect(tally(policy(), ctx(), [reject('UDAN'), reject('UBOB'), reject('UALICE')]).rejectedBy).toBe(
      'UBOB',
    );
  });
});

describe('policyProblems', () => {
  it('accepts a sound policy', () => {
    expect(policyProblems(policy())).toEqual([]);
    expect(policyProblems(policy({ required: 5, approvers: { users: [], groups: ['SDBA'] } }))).toEqual([]);
    expect(policyProblems(policy({ ttlMs: Infinity }))).toEqual([]);
  });

  it('requires at least one approval, as a whole number', () => {
    expect(policyProblems(policy({ required: 0 }))).toEqual([
      'required approvals must be a whole number of at least 1 (got 0)',
    ]);
    expect(policyProblems(policy({ required: 1.5 }))).toHaveLength(1);
  });

  it('requires someone to approve, and enough listed users', () => {
    expect(policyProblems(policy({ approvers: { users: [], groups: [] } }))).toEqual([
      'nobody can approve: list at least one approver user or group',
    ]);
    expect(
      policyProblems(policy({ required: 3, approvers: { users: ['UA', 'UB', 'UA'], groups: [] } })),
    ).toEqual([
      '3 approvals are required but only 2 approvers are listed (and self-approval is off): no run could ever be approved',
    ]);
    expect(
      policyProblems(
        policy({ required: 2, allowSelfApproval: true, approvers: { users: ['UA'], groups: [] } }),
      ),
    ).toEqual(['2 approvals are required but only 1 approver is listed: no run could ever be approved']);
  });

  it('requires a positive TTL', () => {
    expect(policyProblems(policy({ ttlMs: 0 }))).toEqual([
      'the approval time limit must be positive (got 0 ms)',
    ]);
    expect(policyProblems(policy({ ttlMs: NaN }))).toHaveLength(1);
  });
});
