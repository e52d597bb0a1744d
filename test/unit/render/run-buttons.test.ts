import type { SealedPlan } from '../../../src/core/plan';
import { RUN_STATES, type RunState } from '../../../src/core/run-state';
import {
  planBlockId,
  planHashFromBlockId,
  RUN_ACTIONS,
  runActionsFor,
  runButtons,
  type RunAction,
} from '../../../src/render/run-buttons';
import { runOf, stepIndex, writeupFixture } from './render-fixture';

let plan: SealedPlan;
beforeAll(async () => {
  ({ plan } = await writeupFixture());
});

describe('runActionsFor', () => {
  const expected: Record<RunState, RunAction[]> = {
    awaiting_approval: ['approve', 'reject', 'cancel'],
    approved: ['cancel'],
    running: ['cancel'],
    failed: ['rollback', 'retry'],
    interrupted: ['resume', 'rollback'],
    cancelled: ['rollback'],
    rollback_failed: ['rollback'],
    rolling_back: [],
    succeeded: [],
    rolled_back: [],
    rejected: [],
    expired: [],
  };

  // In each state after the first change (step 1 edits a file), as a failed or cancelled run's buttons depend on it.
  it.each(RUN_STATES.map((s) => [s]))('offers only what applies when %s', (state) => {
    expect(runActionsFor(runOf(plan, state, { nextStep: 1 }))).toEqual(expected[state]);
  });

  it('offers only Retry on a run that failed before changing anything (nothing to roll back)', () => {
    expect(runActionsFor(runOf(plan, 'failed', { nextStep: 0 }))).toEqual(['retry']);
    expect(runActionsFor(runOf(plan, 'failed', { nextStep: 0, undoNext: 0 }))).toEqual(['rollback', 'retry']);
  });

  it('offers a rollback of a cancelled run only when it changed something', () => {
    const after = stepIndex(plan, 'slot-srv127');
    expect(runActionsFor(runOf(plan, 'cancelled', { nextStep: 0 }))).toEqual([]);
    expect(runActionsFor(runOf(plan, 'cancelled', { nextStep: after }))).toEqual(['rollback']);
  });

  it('hides Cancel once a cancel was asked for, and Approve on a plan that no longer matches its hash', () => {
    expect(runActionsFor(runOf(plan, 'running', { cancelRequested: true }))).toEqual([]);
    const tampered = { ...plan, cluster: 'OTHER' };
    expect(runActionsFor(runOf(tampered, 'awaiting_approval'))).toEqual(['reject', 'cancel']);
  });
});

describe('runButtons', () => {
  it('gives every button the run id as its only value, and binds the block to the plan hash', () => {
    const block = runButtons(runOf(plan, 'awaiting_approval'));
    expect(block?.block_id).toBe(planBlockId(plan.hash));
    expect(planHashFromBlockId(block?.block_id)).toBe(plan.hash);
    expect(
      block?.elements.map((e) => (e.type === 'button' ? [e.action_id, e.value, e.style] : null)),
    ).toEqual([
      [RUN_ACTIONS.approve, 'run_7f3a9c2e', 'primary'],
      [RUN_ACTIONS.reject, 'run_7f3a9c2e', 'danger'],
      [RUN_ACTIONS.cancel, 'run_7f3a9c2e', undefined],
    ]);
    for (const e of block?.elements ?? []) expect(e).toHaveProperty('confirm');
  });

  it('names the step a retry runs again', () => {
    const failed = runOf(plan, 'failed', { nextStep: stepIndex(plan, 'start') });
    const retry = runButtons(failed)?.elements[1];
    expect(retry).toMatchObject({
      action_id: 'run.retry',
      text: { text: `Retry step ${stepIndex(plan, 'start') + 1}` },
    });
  });

  it('has no block when nothing can be done, and reads no hash from a foreign block id', () => {
    expect(runButtons(runOf(plan, 'succeeded'))).toBeNull();
    expect(planHashFromBlockId('kbops.plan.xyz')).toBeNull();
    expect(planHashFromBlockId(undefined)).toBeNull();
    expect(planHashFromBlockId('other')).toBeNull();
  });
});
