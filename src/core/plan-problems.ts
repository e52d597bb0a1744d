import type { Action, Condition, Plan, Step, VerdictCheck } from './plan';

// The rules of a plan that span fields, which its shape (plan-schema) cannot say: every name a step,
// undo, probe or verdict check refers to exists, restores follow their edits, conditions are sound.
// Kept apart from the schema so that runbook tests can check an unsealed plan (no hash) too.

/** Rules across fields that the shape cannot say (for runbook tests too: the hash is not checked). */
export function planProblems(plan: Plan): string[] {
  const problems: string[] = [];
  const targets = Object.keys(plan.targets);
  // Every reference to a target is checked here, so that a typo fails the plan, not a run half-way.
  const targetRef = (name: string, at: string): void => {
    if (!Object.hasOwn(plan.targets, name))
      problems.push(`${at}: ${JSON.stringify(name)} is not one of the targets (${targets.join(', ')})`);
  };
  for (const [key, t] of Object.entries(plan.targets)) {
    if (t.name !== key)
      problems.push(`targets.${key}.name: is ${JSON.stringify(t.name)}, must equal its key`);
  }
  const seen = new Map<string, number>();
  plan.steps.forEach((step, i) => {
    const at = `steps[${i}] (${step.id})`;
    const first = seen.get(step.id);
    if (first !== undefined) problems.push(`${at}: id is already used by steps[${first}]`);
    else seen.set(step.id, i);
    targetRef(step.target, `${at}.target`);
    if (step.mutates && step.undo === null) problems.push(`${at}.undo: a mutating step needs undo actions`);
    if (!step.mutates && step.undo !== null) problems.push(`${at}.undo: must be null for a read-only step`);
    if (step.mutates && step.effect === undefined && !step.idempotent)
      problems.push(
        `${at}.effect: a mutating step needs an effect probe (to resume after a crash), or to be idempotent`,
      );
    if (step.idempotent && step.effect !== undefined)
      problems.push(`${at}.idempotent: an idempotent step is run again after a crash, never probed`);
    const context = { steps: plan.steps, index: i, problems, targetRef };
    actionProblems(step.action, `${at}.action`, context);
    (step.undo ?? []).forEach((a, j) => actionProblems(a, `${at}.undo[${j}]`, context));
    if (step.effect !== undefined) conditionProblems(step.effect.present, `${at}.effect.present`, problems);
    if (step.stallMs !== undefined && step.stallMs > step.timeoutMs)
      problems.push(`${at}.stallMs: ${step.stallMs} is more than the step's timeoutMs ${step.timeoutMs}`);
    if (step.action.kind === 'file-edit' && step.action.backup === step.action.path)
      problems.push(`${at}.action.backup: the backup cannot be the file itself`);
  });
  (plan.guards ?? []).forEach((g, i) => {
    const at = `guards[${i}]`;
    targetRef(g.target, `${at}.target`);
    if (g.until !== undefined && !seen.has(g.until))
      problems.push(`${at}.until: ${JSON.stringify(g.until)} is not a step of the plan`);
    conditionProblems(g.expect, `${at}.expect`, problems);
  });
  return problems;
}

interface ActionContext {
  readonly steps: readonly Step[];
  readonly index: number;
  readonly problems: string[];
  readonly targetRef: (name: string, at: string) => void;
}

function actionProblems(action: Action, at: string, ctx: ActionContext): void {
  const { steps, index, problems } = ctx;
  if (action.kind === 'wait-until') conditionProblems(action.until, `${at}.until`, problems);
  if (action.kind === 'verify') conditionProblems(action.expect, `${at}.expect`, problems);
  if (
    (action.kind === 'wait-until' || action.kind === 'verify' || action.kind === 'ssh') &&
    action.on !== undefined
  )
    ctx.targetRef(action.on, `${at}.on`);
  if (action.kind === 'verdict')
    action.checks.forEach((c, k) => verdictCheckProblems(c, `${at}.checks[${k}]`, ctx));
  if (action.kind !== 'file-restore') return;
  // A restore puts back the backup an edit kept, so that edit must run first (or be this very step).
  const j = steps.findIndex((s) => s.id === action.editStepId);
  const edit = steps[j];
  if (edit === undefined || j > index || edit.action.kind !== 'file-edit') {
    problems.push(`${at}.editStepId: ${JSON.stringify(action.editStepId)} is not an earlier file-edit step`);
    return;
  }
  if (edit.action.path !== action.path)
    problems.push(`${at}.path: restores ${action.path} but step ${edit.id} edits ${edit.action.path}`);
  if (edit.target !== steps[index]?.target)
    problems.push(`${at}: restores on ${steps[index]?.target} but step ${edit.id} edits on ${edit.target}`);
}

function verdictCheckProblems(c: VerdictCheck, at: string, ctx: ActionContext): void {
  switch (c.kind) {
    case 'probe':
      ctx.targetRef(c.target, `${at}.target`);
      conditionProblems(c.expect, `${at}.expect`, ctx.problems);
      if (c.failed?.explain) ctx.targetRef(c.failed.explain.target, `${at}.failed.explain.target`);
      return;
    case 'lost-rows':
      ctx.targetRef(c.target, `${at}.target`);
      return;
    case 'catch-up':
    case 'rows':
      ctx.targetRef(c.primary, `${at}.primary`);
      ctx.targetRef(c.standby, `${at}.standby`);
      return;
  }
}

function conditionProblems(c: Condition, at: string, problems: string[]): void {
  switch (c.kind) {
    case 'row-count':
      if (c.min !== undefined && c.max !== undefined && c.min > c.max)
        problems.push(`${at}: min ${c.min} is more than max ${c.max}`);
      return;
    case 'stdout-matches':
      try {
        new RegExp(c.pattern, 'm');
      } catch {
        problems.push(`${at}.pattern: /${c.pattern}/ is not a valid regular expression`);
      }
      return;
    case 'all':
    case 'any':
      c.of.forEach((x, k) => conditionProblems(x, `${at}.of[${k}]`, problems));
      return;
    case 'not':
      conditionProblems(c.of, `${at}.of`, problems);
      return;
    default:
      return;
  }
}
