import type { SealedPlan } from '../../../src/core/plan';
import type { JournalEvent, Run, StoredEvent } from '../../../src/core/run';
import type { RunStore } from '../../../src/ports/run-store';

// Reading a run's journal for the chaos tests: which steps were started, by whom, and a compact
// transcript to print when a case fails.

export const startedIds = (events: readonly StoredEvent[], phase: 'do' | 'undo'): string[] =>
  events.flatMap((e) => (e.event.type === 'step-started' && e.event.phase === phase ? [e.event.stepId] : []));

export const failedUndos = (events: readonly StoredEvent[]): JournalEvent[] =>
  events.map((e) => e.event).filter((e) => e.type === 'step-finished' && e.phase === 'undo' && !e.outcome.ok);

/** The mutating steps a rollback of a run interrupted at step `k` (in flight) must undo, newest first. */
export const undoneFrom = (plan: SealedPlan, k: number): string[] =>
  plan.steps
    .slice(0, k + 1)
    .filter((s) => s.mutates && s.undo)
    .map((s) => s.id)
    .reverse();

/** One line per journal event: enough to see what happened without the plan. */
export function journalText(events: readonly StoredEvent[]): string {
  return events
    .map((e) => {
      const ev = e.event;
      const at = e.at.slice(11, 23);
      switch (ev.type) {
        case 'state':
          return `${e.id} ${at} ${e.actor}: ${ev.from} -> ${ev.to}${ev.reason ? ` (${ev.reason.slice(0, 300)})` : ''}`;
        case 'step-started':
          return `${e.id} ${at} ${e.actor}: ${ev.phase} #${ev.index} ${ev.stepId} started`;
        case 'step-finished': {
          const o = ev.outcome;
          const why = o.ok ? 'ok' : `FAILED ${o.failure.code}: ${o.failure.message.slice(0, 300)}`;
          return `${e.id} ${at} ${e.actor}: ${ev.phase} #${ev.index} ${ev.stepId} ${why} (${ev.durationMs} ms)`;
        }
        case 'step-progress':
          return `${e.id} ${at} ${e.actor}: progress #${ev.index} ${ev.percent ?? ''}% ${ev.message?.slice(0, 80) ?? ''}`;
        default:
          return `${e.id} ${at} ${e.actor}: ${JSON.stringify(ev).slice(0, 300)}`;
      }
    })
    .join('\n');
}

export async function runReport(store: RunStore, runId: string): Promise<string> {
  const run: Run | undefined = await store.getRun(runId).catch(() => undefined);
  const events = await store.events({ runId }).catch(() => []);
  return `run ${runId}: ${run?.state ?? '?'} nextStep=${run?.nextStep ?? '?'} undoNext=${run?.undoNext ?? '-'}\n${journalText(events)}`;
}
