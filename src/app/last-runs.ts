import type { Run, StepOutcome } from '../core/run';
import type { LastRun } from '../health/report-model';
import type { RunStore } from '../ports/run-store';

// The newest finished run of each runbook on a cluster, with what its verdict measured (a drill's
// failover time): what a health report shows beside the readings. Generic over the registry: no
// runbook is named here.

/** States in which a run has ended (or stopped: interrupted waits for an operator). */
const ENDED = new Set(['succeeded', 'failed', 'rolled_back', 'rollback_failed', 'cancelled', 'interrupted']);

/** How many of a cluster's newest runs are looked through. */
const LOOK_BACK = 200;

interface CheckDetail {
  readonly name?: unknown;
  readonly ok?: unknown;
  readonly detail?: unknown;
}

/** The measured checks' results, as the verdict showed them (`failover time 4.2 s`). */
async function measuresOf(store: RunStore, run: Run): Promise<string[]> {
  const measured = new Set(
    run.plan.steps.flatMap((s) =>
      s.action.kind === 'verdict'
        ? s.action.checks.flatMap((c) => ('measure' in c && c.measure ? [c.name] : []))
        : [],
    ),
  );
  if (measured.size === 0) return [];
  const events = await store.events({ runId: run.id, limit: 10_000 });
  const out: string[] = [];
  for (const e of events) {
    if (e.event.type !== 'step-finished' || e.event.phase !== 'do') continue;
    const outcome: StepOutcome = e.event.outcome;
    const checks = (outcome.detail as { checks?: unknown } | undefined)?.checks;
    if (!Array.isArray(checks)) continue;
    for (const c of checks as CheckDetail[])
      if (typeof c.name === 'string' && measured.has(c.name) && c.ok === true && typeof c.detail === 'string')
        out.push(c.detail);
  }
  return out;
}

export async function lastRunsOf(
  store: RunStore,
  cluster: string,
  runbookIds: readonly string[],
): Promise<LastRun[]> {
  const runs = await store.listRuns({ cluster, limit: LOOK_BACK });
  const out: LastRun[] = [];
  for (const id of runbookIds) {
    const run = runs
      .filter((r) => r.plan.runbook.id === id && ENDED.has(r.state))
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
    if (!run) continue;
    out.push({
      runbook: id,
      runId: run.id,
      state: run.state,
      endedAt: run.updatedAt,
      measures: await measuresOf(store, run),
    });
  }
  return out;
}
