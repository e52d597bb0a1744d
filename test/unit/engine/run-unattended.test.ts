import { composeRuns } from '../../../src/app/compose-runs';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { sealPlan, type SealedPlan } from '../../../src/core/plan';
import type { Run } from '../../../src/core/run';
import { approverRefusal, runUnattended } from '../../../src/engine/run-unattended';
import type { RunStore } from '../../../src/ports/run-store';
import { testPlan } from '../../integration/support/test-plan';
import { labCluster } from '../chatops/chatops-harness';
import { memoryRunStore } from './memory-run-store';

// `kbops run … --yes --approve-as U1 --approve-as U2`: a plan whose runbook demands more than one
// approver, or excludes its requester, runs unattended only with its approvers named; each must be
// one of the cluster's approvers, named once, and each vote goes through RunService.vote.

const REQUESTER = 'cli:me@host';
const demanding = (demand?: { min: number; requesterExcluded: boolean }, requester = REQUESTER): SealedPlan =>
  sealPlan({ ...testPlan('lab', requester), ...(demand && { approvals: demand }) });
const TWO = { min: 2, requesterExcluded: true };
const policy = (required: number, allowSelfApproval: boolean) => ({
  required,
  allowSelfApproval,
  approvers: { users: ['UBOB', 'UCAROL'], groups: ['SOPS'] },
  ttlMs: 60_000,
});

describe('approverRefusal', () => {
  const hint =
    "each named approver must be among lab's approvers (access.approvers); or request it in Slack, where the approvers can press Approve";

  it('lets the requester alone approve when one approval is needed and they may give it', () => {
    expect(approverRefusal(demanding(), policy(1, true), [])).toBeUndefined();
  });

  it('says how many distinct approvers are needed, and the flag, when none is named', () => {
    expect(approverRefusal(demanding(TWO), policy(2, false), [])).toEqual({
      code: 'needs-approvers',
      message:
        'add-standby needs 2 distinct approvers other than its requester: name them with --approve-as <user>, once per approver',
      hint,
    });
    expect(approverRefusal(demanding(), policy(1, false), [])?.message).toBe(
      'add-standby needs 1 distinct approver other than its requester: name them with --approve-as <user>, once per approver',
    );
    expect(approverRefusal(demanding(), policy(3, true), [])?.message).toMatch(
      /^add-standby needs 3 distinct approvers: name them/,
    );
  });

  it.each([
    [
      ['UBOB'],
      'needs-approvers',
      'add-standby needs 2 distinct approvers other than its requester, but --approve-as named only 1',
    ],
    [
      ['UBOB', 'UBOB'],
      'duplicate-approver',
      'UBOB is named twice with --approve-as: an approver counts once',
    ],
    [['UBOB', 'UMALLORY', 'UEVE'], 'not-approver', "UMALLORY, UEVE are not among lab's approvers"],
    [
      ['UBOB', REQUESTER],
      'self-approval',
      `${REQUESTER} requested this run, and add-standby does not let its requester approve`,
    ],
  ])('refuses %j (%s)', (approvers, code, message) => {
    expect(approverRefusal(demanding(TWO), policy(2, false), approvers)).toEqual({ code, message, hint });
  });

  it('accepts enough distinct approvers, by name or through a group', () => {
    expect(approverRefusal(demanding(TWO), policy(2, false), ['UCAROL', 'UBOB'])).toBeUndefined();
    const groups = (u: string) => (u === 'UDAVE' ? ['SOPS'] : []);
    expect(approverRefusal(demanding(TWO), policy(2, false), ['UCAROL', 'UDAVE'], groups)).toBeUndefined();
  });
});

describe('runUnattended', () => {
  let store: RunStore;
  let lab: ClusterConfig;
  beforeAll(async () => {
    store = await memoryRunStore();
    lab = await labCluster();
    lab = { ...lab, access: { ...lab.access, approvers: { users: ['UBOB', 'UCAROL'], groups: ['SOPS'] } } };
  });
  afterAll(() => store.close());

  const executed: Run[] = [];
  const executor = { execute: async (run: Run) => (executed.push(run), run) };
  /** As `kbops run … --yes` composes it: the named approvers, or the requester alone. */
  const run = (plan: SealedPlan, approvers: readonly string[], groupsOf?: (u: string) => string[]) => {
    const { runs } = composeRuns({
      inventory: { clusters: { lab }, reports: [] },
      env: {},
      store,
      groupsOf: () => [],
      owner: 'cli:test',
      onError: (what, err) => {
        throw new Error(`${what}: ${String(err)}`);
      },
      unattended:
        approvers.length > 0
          ? { rollbackOnFailure: false }
          : { approver: plan.requester, rollbackOnFailure: false },
    });
    return runUnattended(plan, {
      runs,
      executor: executor as never,
      store,
      owner: 'cli:test',
      approvers,
      ...(groupsOf && { groupsOf }),
    });
  };
  const approvals = async (runId: string) =>
    (await store.approvals(runId)).map((a) => [a.userId, a.decision]);

  it('casts each named approver’s vote through the run service, then executes the approved run', async () => {
    const plan = demanding(TWO);
    const r = await run(plan, ['UCAROL', 'UBOB']);
    if (!r.ok) throw new Error(r.failure.message);
    expect(executed.at(-1)).toMatchObject({ id: r.run.id, state: 'running', owner: 'cli:test' });
    expect(await approvals(r.run.id)).toEqual([
      ['UCAROL', 'approve'],
      ['UBOB', 'approve'],
    ]);
    await store.applyEvent(r.run.id, 'succeed', { actor: 'cli:test', owner: 'cli:test' });
  });

  it('refuses too few, unlisted or unnamed approvers before anything is stored', async () => {
    const before = (await store.listRuns({})).length;
    for (const [approvers, code] of [
      [[], 'needs-approvers'],
      [['UBOB'], 'needs-approvers'],
      [['UBOB', 'UMALLORY'], 'not-approver'],
    ] as const) {
      const r = await run(demanding(TWO), approvers);
      expect(r).toMatchObject({ ok: false, failure: { code } });
    }
    expect((await store.listRuns({})).length).toBe(before);
  });

  it('still lets the requester alone approve a plan that demands nothing more', async () => {
    const r = await run(demanding(), []);
    if (!r.ok) throw new Error(r.failure.message);
    expect(await approvals(r.run.id)).toEqual([[REQUESTER, 'approve']]);
    await store.applyEvent(r.run.id, 'succeed', { actor: 'cli:test', owner: 'cli:test' });
  });

  it('is held to the server-side check of every vote: a refused vote withdraws the run', async () => {
    // The caller believes UDAVE is in the approvers' group; the run service (no groups) does not.
    const r = await run(demanding(TWO), ['UBOB', 'UDAVE'], (u) => (u === 'UDAVE' ? ['SOPS'] : []));
    expect(r).toMatchObject({ ok: false, failure: { code: 'not-approver' } });
    const last = (await store.listRuns({ limit: 1 }))[0]!;
    expect(last.state).toBe('cancelled');
    expect(await store.getLock('lab')).toBeFalsy();
  });
});
