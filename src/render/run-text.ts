import type { SealedPlan } from '../core/plan';
import type { Run } from '../core/run';
import type { RunState } from '../core/run-state';

// Words shared by every run message: what the run does, which step, in which state.

/** "add-node on ESHA": what a plan does when nothing better was recorded. */
export const planSubject = (plan: SealedPlan): string => `${plan.runbook.id} on ${plan.cluster}`;

/**
 * "add srv159 (192.168.4.159) to ESHA": the runbook's own words, recorded with the run when it was
 * submitted (plain text, for mrkdwn escape it).
 */
export const runSubject = (run: Pick<Run, 'plan' | 'meta'>): string =>
  typeof run.meta.subject === 'string' && run.meta.subject !== '' ? run.meta.subject : planSubject(run.plan);

/** "awaiting approval", "rolled back". */
export const stateWords = (state: RunState): string => state.replaceAll('_', ' ');

/** "step 8/33". */
export const stepLabel = (run: Run, index: number): string => `step ${index + 1}/${run.plan.steps.length}`;

/** The title of step `index`, or its position when there is no such step. */
export const stepTitle = (run: Run, index: number): string => run.plan.steps[index]?.title ?? `#${index + 1}`;

/** Steps that change something and have completed (what a rollback would undo). */
export const completedMutating = (run: Run): number =>
  run.plan.steps.slice(0, run.nextStep).filter((s) => s.mutates).length;
