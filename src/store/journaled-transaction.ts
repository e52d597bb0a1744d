import type { JournalEntry, StoredEvent } from '../core/run';
import type { Db, Queryable } from './db';
import { JOURNAL_LOCK, LOCK_NAMESPACE } from './migrations';
import { eventColumns, one, toStoredEvent, type EventRow } from './run-row';

/** Queues a journal entry; it is written with the transaction, or not at all. */
export type Journal = (entry: JournalEntry) => void;

/** A transaction whose journal entries are written last, just before COMMIT (see writeJournal). */
export function journaledTransaction<T>(
  db: Db,
  fn: (tx: Queryable, journal: Journal) => Promise<T>,
): Promise<T> {
  return db.transaction(async (tx) => {
    const pending: JournalEntry[] = [];
    const result = await fn(tx, (e) => pending.push(e));
    await writeJournal(tx, pending);
    return result;
  });
}

/**
 * Journal ids must grow in commit order, or a reader tailing with `afterId` could skip an event that
 * commits after a later id was read. A transaction-scoped advisory lock serialises journal writers
 * from here to COMMIT; taking it last, after every row lock, leaves no room for a deadlock.
 */
export async function writeJournal(tx: Queryable, entries: readonly JournalEntry[]): Promise<StoredEvent[]> {
  if (entries.length === 0) return [];
  await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, JOURNAL_LOCK]);
  const out: StoredEvent[] = [];
  for (const entry of entries) {
    const r = await tx.query<EventRow>(
      `INSERT INTO kbops_events (run_id, cluster, actor, type, data) VALUES ($1, $2, $3, $4, $5::text::jsonb)
       RETURNING *`,
      eventColumns(entry),
    );
    out.push(toStoredEvent(one(r.rows)));
  }
  return out;
}
