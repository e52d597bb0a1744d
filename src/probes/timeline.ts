import type { Dialect } from '../dialects/dialect';
import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { rowReader, show } from './row-reader';

// A node's timeline, as its last checkpoint (or restartpoint, on a standby) recorded it: what
// `patronictl list` shows. Two nodes on different timelines after a failover is a divergence to see.

export const timelineSql = (d: Dialect): SqlProbe =>
  sqlProbe(`select timeline_id from ${d.sql.controlCheckpoint}()`);

export function parseTimeline(rows: readonly Row[]): Parsed<number> {
  const row = rows[0];
  if (row === undefined) return failed('the checkpoint query returned no row');
  const r = rowReader(row);
  const timeline = r.int('timeline_id');
  if (timeline == null || timeline < 1) return failed(`timeline_id is ${show(r.raw('timeline_id'))}`);
  return parsed(timeline);
}
