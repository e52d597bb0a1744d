import type { Run, StoredEvent } from '../core/run';

/**
 * Told about every journaled event, after it is journaled. Must not throw and must not block the
 * run: a slow front end coalesces (e.g. keeps the last progress value), it never holds the executor.
 */
export interface Notifier {
  notify(event: StoredEvent, run: Run): void;
}
