import type { Client } from 'pg';

// The state store's side of scheduled reports, read straight from the shared PostgreSQL: who
// claimed and posted each slot. The tests compare it with what the channel shows.

export interface SlotRow {
  readonly slotAt: Date;
  readonly state: 'claimed' | 'posted' | 'failed' | 'skipped';
  readonly owner: string | null;
  readonly attempts: number;
  readonly note: string | null;
}

export async function slotRows(db: Client, schedule: string): Promise<SlotRow[]> {
  const r = await db.query<{
    slot_at: Date;
    state: SlotRow['state'];
    owner: string | null;
    attempts: number;
    note: string | null;
  }>(
    `SELECT slot_at, state, owner, attempts, note FROM kbops_report_slots
     WHERE schedule = $1 ORDER BY slot_at`,
    [schedule],
  );
  return r.rows.map((x) => ({
    slotAt: new Date(x.slot_at),
    state: x.state,
    owner: x.owner,
    attempts: x.attempts,
    note: x.note,
  }));
}

export interface ClaimSeen {
  /** The slot's row at the moment it was first seen claimed (or posted, if the claim was missed). */
  readonly row: SlotRow;
  /** Wall time (Date.now()) it was seen. */
  readonly at: number;
}

/**
 * Polls the slot's row every `everyMs` until it is claimed (the moment a replica works on it), or
 * until it is past claimed (the claim was missed), or `untilMs` (wall time) passes.
 */
export async function watchClaim(
  db: Client,
  schedule: string,
  slotAt: Date,
  untilMs: number,
  everyMs = 20,
): Promise<ClaimSeen | undefined> {
  for (;;) {
    const r = await db.query<{
      state: SlotRow['state'];
      owner: string | null;
      attempts: number;
      note: string | null;
    }>(
      `SELECT state, owner, attempts, note FROM kbops_report_slots
       WHERE schedule = $1 AND slot_at = $2::timestamptz`,
      [schedule, slotAt.toISOString()],
    );
    const x = r.rows[0];
    if (x) return { row: { slotAt, ...x }, at: Date.now() };
    if (Date.now() > untilMs) return undefined;
    await new Promise((res) => setTimeout(res, everyMs));
  }
}
