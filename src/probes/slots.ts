import type { Dialect } from '../dialects/dialect';
import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { columnList, missingColumns, rowReader, show } from './row-reader';

// Replication slots and the WAL each one holds back. A forgotten inactive slot fills the primary's
// disk, so retained bytes are measured against the node's own position: the current one on a primary,
// the last replayed one on a standby (slots are kept on standbys too; the current-position function
// fails there). One query serves both roles: CASE only runs the branch it takes.

export interface ReplicationSlot {
  readonly name: string;
  /** physical | logical; null when the row had no slot_type column. */
  readonly type: string | null;
  readonly active: boolean;
  /** null until a client has used the slot (a new slot reserves nothing). */
  readonly restartLsn: string | null;
  /** WAL the slot retains, in bytes; null when restart_lsn is null or the column was not selected. */
  readonly retainedBytes: number | null;
}

export const slotsSql = (d: Dialect): SqlProbe =>
  sqlProbe(
    `select slot_name, slot_type, active, restart_lsn, ${d.sql.walPositionDiff}(case when ` +
      `${d.sql.isInRecovery}() then ${d.sql.lastReplayPosition}() else ${d.sql.currentWalPosition}() end, ` +
      `restart_lsn) as retained_bytes from ${d.sql.replicationSlots} order by slot_name`,
  );

/** Rows of slotsSql, or of `select * from …_replication_slots` (then retainedBytes is null). */
export function parseSlots(rows: readonly Row[]): Parsed<ReplicationSlot[]> {
  const missing = missingColumns(rows, ['slot_name', 'active', 'restart_lsn']);
  if (missing.length > 0) {
    return failed(`the slot list has no ${missing.join(', ')} column (columns: ${columnList(rows)})`);
  }
  const slots: ReplicationSlot[] = [];
  for (const [i, row] of rows.entries()) {
    const r = rowReader(row);
    const name = r.text('slot_name');
    const active = r.bool('active');
    const retained = r.num('retained_bytes');
    const where = `slot row ${i + 1}`;
    if (name === null) return failed(`${where}: slot_name is empty`);
    if (active == null) return failed(`${where} (${name}): active is ${show(r.raw('active'))}`);
    if (retained === undefined) {
      return failed(`${where} (${name}): retained_bytes is ${show(r.raw('retained_bytes'))}`);
    }
    slots.push({
      name,
      type: r.text('slot_type'),
      active,
      restartLsn: r.text('restart_lsn'),
      retainedBytes: retained,
    });
  }
  return parsed(slots);
}
