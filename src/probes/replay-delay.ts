import type { Dialect } from '../dialects/dialect';
import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { rowReader, show } from './row-reader';
import { lsnToBigInt } from './wal-position';

// A standby's replay delay, the check_postgres / repmgr way: 0 when it has replayed everything it
// received, else the seconds since the last replayed transaction. So a standby of an idle primary is
// not lagging, however long ago the last write was. Asked on the standby itself (its own clock).

export const replayDelaySql = (d: Dialect): SqlProbe =>
  sqlProbe(
    `select ${d.sql.lastReceivePosition}() as received, ${d.sql.lastReplayPosition}() as replayed, ` +
      `extract(epoch from (now() - ${d.sql.lastXactReplayTimestamp}())) as replay_age_seconds`,
  );

/** Seconds (never negative: the commit time comes from the primary's clock, which may be ahead). */
export function parseReplayDelay(rows: readonly Row[]): Parsed<number> {
  const row = rows[0];
  if (row === undefined) return failed('the replay delay query returned no row');
  const r = rowReader(row);
  const received = r.text('received');
  const replayed = r.text('replayed');
  for (const [name, v] of [
    ['received', received],
    ['replayed', replayed],
  ] as const) {
    if (v !== null && lsnToBigInt(v) === null) return failed(`${name} is ${show(v)}, not a WAL position`);
  }
  if (received !== null && replayed !== null && lsnToBigInt(received) === lsnToBigInt(replayed))
    return parsed(0);
  const age = r.num('replay_age_seconds');
  if (age === undefined) return failed(`replay_age_seconds is ${show(r.raw('replay_age_seconds'))}`);
  if (age === null)
    return failed(
      `it has replayed no transaction since it started and has not replayed all it received ` +
        `(received ${received ?? 'nothing'}, replayed ${replayed ?? 'nothing'})`,
    );
  return parsed(Math.max(0, age));
}
