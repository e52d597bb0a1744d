import type { Tally } from '../../../src/core/approval-policy';
import type { SealedPlan } from '../../../src/core/plan';
import type { Check } from '../../../src/core/check';
import {
  approvalDemandText,
  approvalsText,
  planRootMessage,
  preflightText,
} from '../../../src/render/plan-message';
import {
  expectGolden,
  expectWithinLimits,
  NOW,
  runOf,
  shownText,
  stepIndex,
  writeupFixture,
} from './render-fixture';

let plan: SealedPlan;
let preflight: Check[];
beforeAll(async () => {
  ({ plan, preflight } = await writeupFixture());
});

// As chatops passes it: the run's effective policy (a runbook demanding two, requester excluded).
const POLICY = approvalDemandText({ required: 2, allowSelfApproval: false });
const oneOfTwo: Tally = { approvers: ['U_ALICE'], count: 1, needed: 2, satisfied: false };
const twoOfTwo: Tally = { approvers: ['U_ALICE', 'U_BOB'], count: 2, needed: 2, satisfied: true };

describe('planRootMessage', () => {
  it('asks for approval with the preflight, the votes, the plan hash and three buttons (golden)', () => {
    const m = planRootMessage({
      run: runOf(plan, 'awaiting_approval'),
      preflight,
      tally: oneOfTwo,
      policyText: POLICY,
      now: NOW,
    });
    expectGolden('plan-root-awaiting-approval', m);
    expectWithinLimits(m);
    const text = shownText(m);
    expect(text).toContain(plan.hash.slice(0, 12));
    expect(text).toContain('1 of 2 approved by <@U_ALICE>');
    expect(text).toContain('_needs 2 approvals (the requester cannot approve)_');
    expect(text).toContain('expires in 3h42m');
    expect(text).toContain('→ open 54321/tcp or stop it, as the write-up does');
    expect(text).not.toContain(JSON.stringify(plan.steps[0]?.action)); // the plan is in the thread, not here
  });

  it('shows the running step and its progress, with Cancel only (golden)', () => {
    const m = planRootMessage({
      run: runOf(plan, 'running', { nextStep: stepIndex(plan, 'basebackup') }),
      preflight,
      tally: twoOfTwo,
      policyText: POLICY,
      now: NOW,
      progress: { percent: 42, message: '873425/2079583 kB (42%), 0/1 tablespace' },
    });
    expectGolden('plan-root-running', m);
    expectWithinLimits(m);
    expect(shownText(m)).toContain('running step 11/32: copy srv127 to srv159 (base backup, WAL streamed)');
    expect(shownText(m)).toContain('— 42%');
  });

  it.each([
    ['failed', 'start', ['run.rollback', 'run.retry']],
    ['interrupted', 'start', ['run.resume', 'run.rollback']],
    ['succeeded', null, []],
    ['rolled_back', null, []],
    ['rejected', null, []],
  ] as const)('in state %s shows its buttons (golden)', (state, at, ids) => {
    const m = planRootMessage({
      run: runOf(plan, state, {
        nextStep: at === null ? (state === 'succeeded' ? plan.steps.length : 0) : stepIndex(plan, at),
      }),
      preflight,
      tally: state === 'rejected' ? { ...oneOfTwo, rejectedBy: 'U_BOB' } : twoOfTwo,
      policyText: POLICY,
      now: NOW,
    });
    expectGolden(`plan-root-${state.replace('_', '-')}`, m);
    expectWithinLimits(m);
    const buttons = m.blocks.flatMap((b) => (b.type === 'actions' ? b.elements : []));
    expect(buttons.map((b) => (b.type === 'button' ? b.action_id : b.type))).toEqual(ids);
  });

  it('warns on a plan that no longer matches its hash and offers no Approve', () => {
    const m = planRootMessage({
      run: runOf({ ...plan, cluster: 'OTHER' }, 'awaiting_approval'),
      preflight,
      tally: null,
      now: NOW,
    });
    expect(shownText(m)).toContain('This plan does not match its hash. Do not approve it.');
    expect(shownText(m)).not.toContain('run.approve');
  });
});

describe('approvalsText', () => {
  it('says who approved, who rejected, or that nobody voted', () => {
    expect(approvalsText(oneOfTwo)).toBe('1 of 2 approved by <@U_ALICE>');
    expect(approvalsText(twoOfTwo)).toBe('2 of 2 approved by <@U_ALICE>, <@U_BOB>');
    expect(approvalsText({ approvers: [], count: 0, needed: 1, satisfied: false })).toBe('0 of 1 approved');
    expect(approvalsText({ ...oneOfTwo, rejectedBy: 'U_BOB' })).toBe('rejected by <@U_BOB>');
    expect(approvalsText(null)).toBe('no votes yet');
  });
});

describe('approvalDemandText', () => {
  it('says how many approvals the run needs, and when its requester cannot give one', () => {
    expect(approvalDemandText({ required: 2, allowSelfApproval: false })).toBe(
      'needs 2 approvals (the requester cannot approve)',
    );
    expect(approvalDemandText({ required: 1, allowSelfApproval: false })).toBe(
      'needs 1 approval (the requester cannot approve)',
    );
    expect(approvalDemandText({ required: 1, allowSelfApproval: true })).toBe('needs 1 approval');
  });
});

describe('preflightText', () => {
  it('lists failures first with their hints, then warnings, then passes by name, escaped', () => {
    const checks: Check[] = [
      { name: 'one-primary', status: 'pass', message: 'srv127 is the primary' },
      { name: 'firewall', status: 'warn', message: 'firewalld is active', hint: 'open 54321/tcp' },
      { name: 'data-dir', status: 'fail', message: '/data is <not empty> & busy', hint: 'move it away' },
    ];
    expect(preflightText(checks)).toBe(
      [
        '*Preflight:* 1 pass · 1 warn · 1 fail',
        ':x: *data-dir*: /data is &lt;not empty&gt; &amp; busy',
        '      → move it away',
        ':warning: *firewall*: firewalld is active',
        '      → open 54321/tcp',
        ':white_check_mark: one-primary',
      ].join('\n'),
    );
    expect(preflightText([])).toBe('*Preflight:* no checks recorded');
  });
});
