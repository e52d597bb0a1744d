import type { HealthLevel, LagSample } from '../core/health-levels';
import type { ReportStore, SlotRecord, SlotState } from '../ports/report-store';
import type { Db } from './db';
import { LOCK_NAMESPACE, REPORT_LEVELS_LOCK } from './migrations';
import { iso, jsonParam } from './run-row';

// Rows as both drivers return them: timestamptz as Date, bigint as a string (pg) or a number (PGlite).
type Timestamp = Date | string;

interface SlotRow {
  readonly schedule: string;
  readonly slot_at: Timestamp;
  readonly state: SlotState;
  readonly owner: string | null;
  readonly lease_until: Timestamp | null;
  readonly attempts: number;
  readonly note: string | null;
}

interface LagRow {
  readonly cluster: string;
  readonly standby: string;
  readonly at: Timestamp;
  readonly lag_bytes: string | number | null;
  readonly lag_seconds: number | null;
}

const date = (t: Timestamp): Date => (t instanceof Date ? t : new Date(t));
const numberOrNull = (v: string | number | null): number | null => (v === null ? null : Number(v));

const toSlot = (r: SlotRow): SlotRecord => ({
  schedule: r.schedule,
  slotAt: date(r.slot_at),
  state: r.state,
  owner: r.owner,
  leaseUntil: r.lease_until === null ? null : date(r.lease_until),
  attempts: r.attempts,
  note: r.note,
});

const toSample = (r: LagRow): LagSample => ({
  cluster: r.cluster,
  standby: r.standby,
  at: iso(r.at),
  lagBytes: numberOrNull(r.lag_bytes),
  lagSeconds: r.lag_seconds,
});

const SLOT_COLUMNS = 'schedule, slot_at, state, owner, lease_until, attempts, note';

/**
 * ReportStore over PostgreSQL (node-postgres or PGlite). Times are the callers' (the scheduler's
 * clock decides slots and leases); every claim or finish is one statement, so the row lock of the
 * slot settles a race between replicas without a transaction around it.
 */
export class SqlReportStore implements ReportStore {
  constructor(private readonly db: Db) {}

  async firstSeen(schedule: string, now: Date): Promise<Date> {
    const inserted = await this.db.query<{ first_seen: Timestamp }>(
      `INSERT INTO kbops_report_schedules (schedule, first_seen) VALUES ($1, $2::timestamptz)
       ON CONFLICT (schedule) DO NOTHING RETURNING first_seen`,
      [schedule, iso(now)],
    );
    // Not inserted: another call (maybe a replica's, just committed) was first. A new statement
    // sees it, where a CTE in the same statement would not.
    const row =
      inserted.rows[0] ??
      (
        await this.db.query<{ first_seen: Timestamp }>(
          'SELECT first_seen FROM kbops_report_schedules WHERE schedule = $1',
          [schedule],
        )
      ).rows[0];
    if (!row) throw new Error(`schedule ${schedule}: first-seen time neither stored nor found`);
    return date(row.first_seen);
  }

  async slots(schedule: string, since: Date): Promise<SlotRecord[]> {
    const r = await this.db.query<SlotRow>(
      `SELECT ${SLOT_COLUMNS} FROM kbops_report_slots
       WHERE schedule = $1 AND slot_at >= $2::timestamptz ORDER BY slot_at`,
      [schedule, iso(since)],
    );
    return r.rows.map(toSlot);
  }

  async claimSlot(
    schedule: string,
    slotAt: Date,
    owner: string,
    now: Date,
    leaseUntil: Date,
  ): Promise<boolean> {
    // One statement: two claimants inserting the same new slot, or updating the same lapsed one,
    // are ordered by the row lock, and the second re-checks the WHERE against the first's row.
    const r = await this.db.query(
      `INSERT INTO kbops_report_slots AS s (schedule, slot_at, state, owner, lease_until, attempts)
       VALUES ($1, $2::timestamptz, 'claimed', $3, $5::timestamptz, 1)
       ON CONFLICT (schedule, slot_at) DO UPDATE
         SET state = 'claimed', owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until,
             attempts = s.attempts + 1, updated_at = now()
         WHERE s.state = 'failed' OR (s.state = 'claimed' AND s.lease_until < $4::timestamptz)
       RETURNING 1`,
      [schedule, iso(slotAt), owner, iso(now), iso(leaseUntil)],
    );
    return r.rows.length === 1;
  }

  async renewSlot(schedule: string, slotAt: Date, owner: string, leaseUntil: Date): Promise<boolean> {
    const r = await this.db.query(
      `UPDATE kbops_report_slots
       SET lease_until = $4::timestamptz, updated_at = now()
       WHERE schedule = $1 AND slot_at = $2::timestamptz AND state = 'claimed' AND owner = $3
       RETURNING 1`,
      [schedule, iso(slotAt), owner, iso(leaseUntil)],
    );
    return r.rows.length === 1;
  }

  async finishSlot(
    schedule: string,
    slotAt: Date,
    owner: string,
    state: 'posted' | 'failed' | 'skipped',
    note?: string,
  ): Promise<boolean> {
    // The owner check is the whole guard: a replica whose lease lapsed and was claimed again by
    // another no longer matches; one whose lease lapsed unclaimed still finishes what it did.
    const r = await this.db.query(
      `UPDATE kbops_report_slots
       SET state = $4, note = $5, lease_until = NULL, updated_at = now()
       WHERE schedule = $1 AND slot_at = $2::timestamptz AND state = 'claimed' AND owner = $3
       RETURNING 1`,
      [schedule, iso(slotAt), owner, state, note ?? null],
    );
    return r.rows.length === 1;
  }

  async skipSlots(schedule: string, slotAts: readonly Date[], note: string): Promise<void> {
    if (slotAts.length === 0) return;
    await this.db.query(
      `INSERT INTO kbops_report_slots (schedule, slot_at, state, attempts, note)
       SELECT $1, t::timestamptz, 'skipped', 0, $3
       FROM jsonb_array_elements_text($2::text::jsonb) AS t
       ON CONFLICT (schedule, slot_at) DO NOTHING`,
      [schedule, jsonParam(slotAts.map(iso)), note],
    );
  }

  async recordLag(samples: readonly LagSample[]): Promise<void> {
    if (samples.length === 0) return;
    // A sample recorded twice (same cluster, standby and time) stays one row.
    await this.db.query(
      `INSERT INTO kbops_lag_samples (cluster, at, standby, lag_bytes, lag_seconds)
       SELECT x.cluster, x.at::timestamptz, x.standby, round(x."lagBytes")::bigint, x."lagSeconds"
       FROM jsonb_to_recordset($1::text::jsonb)
         AS x(cluster text, standby text, at text, "lagBytes" numeric, "lagSeconds" double precision)
       ON CONFLICT (cluster, at, standby) DO NOTHING`,
      [jsonParam(samples)],
    );
  }

  async lagHistory(cluster: string, since: Date): Promise<LagSample[]> {
    const r = await this.db.query<LagRow>(
      `SELECT cluster, standby, at, lag_bytes, lag_seconds FROM kbops_lag_samples
       WHERE cluster = $1 AND at >= $2::timestamptz ORDER BY at, standby`,
      [cluster, iso(since)],
    );
    return r.rows.map(toSample);
  }

  async pruneLag(before: Date): Promise<number> {
    const r = await this.db.query<{ n: number }>(
      `WITH gone AS (DELETE FROM kbops_lag_samples WHERE at < $1::timestamptz RETURNING 1)
       SELECT count(*)::int AS n FROM gone`,
      [iso(before)],
    );
    return r.rows[0]?.n ?? 0;
  }

  async lastLevels(schedule: string): Promise<Map<string, HealthLevel>> {
    const r = await this.db.query<{ cluster: string; level: HealthLevel }>(
      'SELECT cluster, level FROM kbops_report_levels WHERE schedule = $1 ORDER BY cluster',
      [schedule],
    );
    return new Map(r.rows.map((row) => [row.cluster, row.level]));
  }

  /**
   * Replaces the schedule's levels with this report's (a cluster gone from the inventory goes from
   * here too). A report older than the stored one changes nothing: slots posted out of order must
   * not bring back an older picture. Serialised by an advisory lock; once per report, so cheap.
   */
  async setLevels(schedule: string, levels: ReadonlyMap<string, HealthLevel>, at: Date): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_NAMESPACE, REPORT_LEVELS_LOCK]);
      const newer = await tx.query(
        'SELECT 1 FROM kbops_report_levels WHERE schedule = $1 AND at > $2::timestamptz LIMIT 1',
        [schedule, iso(at)],
      );
      if (newer.rows.length > 0) return;
      await tx.query('DELETE FROM kbops_report_levels WHERE schedule = $1', [schedule]);
      if (levels.size === 0) return;
      await tx.query(
        `INSERT INTO kbops_report_levels (schedule, cluster, level, at)
         SELECT $1, x.cluster, x.level, $3::timestamptz
         FROM jsonb_to_recordset($2::text::jsonb) AS x(cluster text, level text)`,
        [schedule, jsonParam([...levels].map(([cluster, level]) => ({ cluster, level }))), iso(at)],
      );
    });
  }
}
