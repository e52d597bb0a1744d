import { evaluate } from '../core/conditions';
import type { Run } from '../core/run';
import type { Clock } from '../ports/clock';
import type { Connector } from '../ports/connector';
import { observe } from './run-action';

export interface EffectReading {
  readonly index: number;
  readonly stepId: string;
  /** true: the effect is there; false: it is not; null: the probe could not tell. */
  readonly present: boolean | null;
  readonly detail: string;
}

export interface Assessment {
  readonly readings: readonly EffectReading[];
  /** Where a resume would continue, or null when the probes do not allow a safe resume. */
  readonly resumeAt: number | null;
  readonly why: string;
}

/**
 * After a crash, asks every mutating step up to the one in flight whether its effect is present.
 * Resume continues after the last step whose effect is confirmed; nothing is re-run blindly.
 */
export async function assessInterrupted(run: Run, connector: Connector, clock: Clock): Promise<Assessment> {
  const steps = run.plan.steps;
  const last = Math.min(run.nextStep, steps.length - 1);
  const readings: EffectReading[] = [];
  const signal = AbortSignal.timeout(60_000);
  for (let i = 0; i <= last; i++) {
    const step = steps[i]!;
    const target = run.plan.targets[step.target];
    if (!step.mutates || !step.effect || !target) continue;
    try {
      const seen = await observe(step.effect.probe, { plan: run.plan, target, connector, clock, signal });
      const r = evaluate(step.effect.present, seen);
      readings.push({ index: i, stepId: step.id, present: r.ok, detail: r.ok ? 'effect present' : r.reason });
    } catch (err) {
      readings.push({ index: i, stepId: step.id, present: null, detail: (err as Error).message });
    }
  }
  const unknown = readings.find((r) => r.present === null);
  if (unknown) {
    return {
      readings,
      resumeAt: null,
      why: `cannot tell whether step ${unknown.index + 1} took effect: ${unknown.detail}`,
    };
  }
  const firstAbsent = readings.find((r) => r.present === false);
  // The step in flight at the crash counts as done only if its effect is confirmed.
  const inFlight = readings.find((r) => r.index === run.nextStep);
  const resumeAt = firstAbsent ? firstAbsent.index : inFlight?.present ? run.nextStep + 1 : run.nextStep;
  const presentAfter = readings.find((r) => r.present === true && r.index > resumeAt);
  if (presentAfter) {
    return {
      readings,
      resumeAt: null,
      why: `step ${resumeAt + 1} has no effect but the later step ${presentAfter.index + 1} has: the cluster is not where the run left it`,
    };
  }
  return {
    readings,
    resumeAt: Math.min(resumeAt, steps.length),
    why:
      resumeAt >= steps.length
        ? 'every step took effect: resuming only records the end'
        : `resume re-runs from step ${resumeAt + 1} (${steps[resumeAt]!.title})`,
  };
}
