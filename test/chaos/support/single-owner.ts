import type { StoredEvent } from '../../../src/core/run';

// "Never two workers on one run", read from the journal: a step event (started, progress,
// finished) by one owner may follow one by another owner only once the run has left the first
// owner's hands (a state change to a state in which nobody executes it: interrupted, failed…).

const ACTIVE = new Set(['running', 'rolling_back']);

export interface OwnerViolation {
  readonly eventId: number;
  readonly owner: string;
  readonly previousOwner: string;
  readonly why: string;
}

export function ownerViolations(events: readonly StoredEvent[]): OwnerViolation[] {
  const out: OwnerViolation[] = [];
  let holder: string | undefined; // who executes the run, as far as the journal shows
  let released = true; // the run has been out of any worker's hands since holder's last step event
  const open = new Map<string, string>(); // `${phase}#${index}` started and not finished, by whom
  for (const e of [...events].sort((a, b) => a.id - b.id)) {
    const ev = e.event;
    if (ev.type === 'state') {
      if (!ACTIVE.has(ev.to)) {
        released = true;
        open.clear(); // whatever was in flight is no longer anyone's
      }
      continue;
    }
    if (ev.type !== 'step-started' && ev.type !== 'step-finished' && ev.type !== 'step-progress') continue;
    if (holder !== undefined && e.actor !== holder && !released) {
      out.push({
        eventId: e.id,
        owner: e.actor,
        previousOwner: holder,
        why: `${ev.type} of ${ev.stepId} by ${e.actor} while ${holder} still held the run`,
      });
    }
    if (ev.type === 'step-started') {
      const key = `${ev.phase}#${ev.index}`;
      const by = open.get(key);
      if (by !== undefined && by !== e.actor) {
        out.push({
          eventId: e.id,
          owner: e.actor,
          previousOwner: by,
          why: `${ev.stepId} started by two owners`,
        });
      }
      open.set(key, e.actor);
    }
    if (ev.type === 'step-finished') open.delete(`${ev.phase}#${ev.index}`);
    holder = e.actor;
    released = false;
  }
  return out;
}
