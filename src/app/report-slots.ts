import cron from 'node-cron';

// A schedule's slots: the minutes its cron expression names, in its time zone. Slots are what
// replicas claim in the state store, so every replica must compute the same ones: a slot is the
// UTC instant of its scheduled minute, whatever the clock of the process that finds it.

const MINUTE = 60_000;

export const floorMinute = (d: Date): Date => new Date(Math.floor(d.getTime() / MINUTE) * MINUTE);

/** Whether a minute is scheduled; node-cron's own matcher, so firing and claiming agree. */
export type SlotMatcher = (minute: Date) => boolean;

export function cronMatcher(expression: string, timezone: string): SlotMatcher {
  const task = cron.createTask(expression, () => undefined, { timezone });
  return (minute) => task.match(floorMinute(minute));
}

/**
 * The scheduled minutes in (after, upTo], newest first, at most `max` (a bound on the scan, not a
 * promise that there are no more: callers look back a bounded window).
 */
export function slotsBetween(matches: SlotMatcher, after: Date, upTo: Date, max = 1440): Date[] {
  const out: Date[] = [];
  for (
    let t = floorMinute(upTo).getTime(), scanned = 0;
    t > after.getTime() && scanned < max;
    t -= MINUTE, scanned += 1
  ) {
    const minute = new Date(t);
    if (matches(minute)) out.push(minute);
  }
  return out;
}

/** Whole minutes from `slot` to `now`: how late a report made now is. */
export const minutesLate = (slot: Date, now: Date): number =>
  Math.max(0, Math.floor((now.getTime() - slot.getTime()) / MINUTE));
