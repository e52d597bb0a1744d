import { planIntact } from '../core/plan';
import { mutatedAnything, type Run } from '../core/run';
import type { RunState } from '../core/run-state';
import { actions, button, type ActionsBlock, type Button } from './slack-message';
import { runSubject, stepLabel, stepTitle, completedMutating } from './run-text';
import { esc, plural, shortHash } from './slack-text';

// The buttons of a run. A button's value is the run id and nothing else: the handler reloads the run
// and authorises the clicking user. The actions block's block_id names the plan hash the buttons were
// shown with, so an approval binds to the plan the approver saw, not to whatever the run holds now.

export const RUN_ACTIONS = {
  approve: 'run.approve',
  reject: 'run.reject',
  cancel: 'run.cancel',
  rollback: 'run.rollback',
  retry: 'run.retry',
  resume: 'run.resume',
} as const;

export type RunAction = keyof typeof RUN_ACTIONS;

const PLAN_BLOCK_PREFIX = 'kbops.plan.';

/** The block_id of a run's actions block. */
export const planBlockId = (planHash: string): string => `${PLAN_BLOCK_PREFIX}${planHash}`;

/** The plan hash in an actions block's block_id (from a block_actions payload), or null. */
export function planHashFromBlockId(blockId: string | undefined): string | null {
  if (blockId === undefined || !blockId.startsWith(PLAN_BLOCK_PREFIX)) return null;
  const hash = blockId.slice(PLAN_BLOCK_PREFIX.length);
  return /^[0-9a-f]{64}$/.test(hash) ? hash : null;
}

/** What may be done to a run in its state (the state machine's operator events, as buttons). */
export function runActionsFor(run: Run, intact: boolean = planIntact(run.plan)): RunAction[] {
  const byState: Record<RunState, RunAction[]> = {
    // A plan that no longer matches its hash may only be withdrawn.
    awaiting_approval: intact ? ['approve', 'reject', 'cancel'] : ['reject', 'cancel'],
    approved: ['cancel'],
    running: run.cancelRequested ? [] : ['cancel'],
    // A run that failed before changing anything has nothing to roll back.
    failed: mutatedAnything(run.plan, run.nextStep, run.undoNext) ? ['rollback', 'retry'] : ['retry'],
    interrupted: ['resume', 'rollback'],
    cancelled: mutatedAnything(run.plan, run.nextStep, run.undoNext) ? ['rollback'] : [],
    rollback_failed: ['rollback'],
    rolling_back: [],
    succeeded: [],
    rolled_back: [],
    rejected: [],
    expired: [],
  };
  return byState[run.state];
}

function runButton(run: Run, action: RunAction): Button {
  const plan = run.plan;
  const hash = `\`${shortHash(plan.hash)}\``;
  const subject = esc(runSubject(run));
  const id = { actionId: RUN_ACTIONS[action], value: run.id };
  const current = `${stepLabel(run, run.nextStep)} “${esc(stepTitle(run, run.nextStep))}”`;
  switch (action) {
    case 'approve': {
      const mutating = plan.steps.filter((s) => s.mutates).length;
      return button({
        ...id,
        text: 'Approve',
        style: 'primary',
        confirm: {
          title: 'Approve this plan?',
          text: `You approve plan ${hash}: ${subject}, ${plural(plan.steps.length, 'step')} (${mutating} change something). Approve only what you have read in the thread.`,
          confirm: 'Approve',
          deny: 'Not yet',
        },
      });
    }
    case 'reject':
      return button({
        ...id,
        text: 'Reject',
        style: 'danger',
        confirm: {
          title: 'Reject this plan?',
          text: `Plan ${hash} (${subject}) ends here and the cluster lock is released. Nothing has been changed.`,
          confirm: 'Reject',
          deny: 'Keep it',
          style: 'danger',
        },
      });
    case 'cancel':
      return button({
        ...id,
        text: 'Cancel',
        ...(run.state === 'running' && { style: 'danger' as const }),
        confirm: {
          title: 'Cancel this run?',
          text:
            run.state === 'running'
              ? `The run stops at ${current}. Completed changes stay in place until you roll back.`
              : `Plan ${hash} (${subject}) is withdrawn. Nothing has been changed.`,
          confirm: 'Cancel the run',
          deny: 'Keep it',
          style: 'danger',
        },
      });
    case 'rollback':
      return button({
        ...id,
        text: 'Roll back',
        style: 'danger',
        confirm: {
          title: 'Roll back this run?',
          text: `Undo the changes of ${plural(Math.max(1, completedMutating(run)), 'completed step')}, newest first (${subject}).`,
          confirm: 'Roll back',
          deny: 'Not now',
          style: 'danger',
        },
      });
    case 'retry':
      return button({
        ...id,
        text: `Retry step ${run.nextStep + 1}`,
        style: 'primary',
        confirm: {
          title: 'Retry the failed step?',
          text: `Run ${current} again, then the rest of plan ${hash}. Fix what made it fail first.`,
          confirm: 'Retry',
          deny: 'Not now',
        },
      });
    case 'resume':
      return button({
        ...id,
        text: 'Resume',
        style: 'primary',
        confirm: {
          title: 'Resume this run?',
          text: `Continue plan ${hash} after the last step whose effect is confirmed, from ${current}.`,
          confirm: 'Resume',
          deny: 'Not now',
        },
      });
  }
}

/** The actions block for `run` (its state's actions unless given), or null when there is nothing to do. */
export function runButtons(run: Run, which: readonly RunAction[] = runActionsFor(run)): ActionsBlock | null {
  if (which.length === 0) return null;
  return actions(
    which.map((a) => runButton(run, a)),
    planBlockId(run.plan.hash),
  );
}
