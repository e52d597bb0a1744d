import { evaluate } from '../core/conditions';
import type { Guard, SealedPlan } from '../core/plan';
import type { Clock } from '../ports/clock';
import type { Connector } from '../ports/connector';
import { observe } from './run-action';

// Before a run changes anything (at its start, and again on resume or retry), the facts its plan
// was built on are read again. A guard whose step has completed is skipped: the run itself changed
// that fact. A guard that cannot be read counts as drift: unknown is never a pass.

export interface GuardReading {
  readonly guard: Guard;
  readonly ok: boolean;
  readonly detail: string;
}

/** Guards still in force when the run continues at step `nextStep`. */
export function guardsInForce(plan: SealedPlan, nextStep: number): Guard[] {
  return (plan.guards ?? []).filter((g) => {
    if (g.until === undefined) return true;
    const at = plan.steps.findIndex((s) => s.id === g.until);
    return at === -1 || at >= nextStep;
  });
}

export async function checkGuards(
  plan: SealedPlan,
  nextStep: number,
  connector: Connector,
  clock: Clock,
  signal: AbortSignal,
): Promise<GuardReading[]> {
  const readings: GuardReading[] = [];
  // One at a time: guards on one host share its connection, and the list is short.
  for (const guard of guardsInForce(plan, nextStep)) {
    const target = plan.targets[guard.target];
    if (!target) {
      readings.push({ guard, ok: false, detail: `unknown target ${guard.target}` });
      continue;
    }
    try {
      const seen = await observe(guard.probe, { plan, target, connector, clock, signal });
      const r = evaluate(guard.expect, seen);
      readings.push({ guard, ok: r.ok, detail: r.ok ? 'holds' : r.reason });
    } catch (err) {
      if (signal.aborted) throw err;
      readings.push({ guard, ok: false, detail: `could not be read: ${(err as Error).message}` });
    }
  }
  return readings;
}

/** One line per guard that no longer holds, for the run's failure message. */
export const driftSummary = (readings: readonly GuardReading[]): string =>
  readings
    .filter((r) => !r.ok)
    .map((r) => `${r.guard.name} (on ${r.guard.target}: ${r.detail})`)
    .join('; ');
