import type { Dialect } from '../dialects/dialect';
import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { columnList, missingColumns, rowReader, show } from './row-reader';

// The primary's view of its standbys: pg_stat_replication / sys_stat_replication. WAL positions are
// *_lsn on PG ≥ 10 and *_location on V8R3 (9.6); the dialect names them. Standbys are told apart by
// application_name, not client_addr (every standby is 127.0.0.1 in the lab).

export interface ReplicationEntry {
  readonly pid: number;
  readonly applicationName: string;
  readonly clientAddr: string | null;
  /** startup | catchup | streaming | backup | stopping. */
  readonly state: string;
  /** WAL positions as the server prints them (`0/180000D0`); null before the standby reported one. */
  readonly sent: string | null;
  readonly write: string | null;
  readonly flush: string | null;
  readonly replay: string | null;
  /** async | potential | sync | quorum; null when the server left it empty. */
  readonly syncState: string | null;
}

/** Every column, so the planner's snapshot shows what the server said. */
export const replicationSql = (d: Dialect): SqlProbe => sqlProbe(`select * from ${d.sql.statReplication}`);

export function parseReplication(rows: readonly Row[], d: Dialect): Parsed<ReplicationEntry[]> {
  const columns = [d.sql.sentColumn, d.sql.writeColumn, d.sql.flushColumn, d.sql.replayColumn];
  const missing = missingColumns(rows, ['pid', 'application_name', 'state', ...columns]);
  if (missing.length > 0) {
    return failed(
      `${d.sql.statReplication} has no ${missing.join(', ')} column (columns: ${columnList(rows)}): ` +
        `is the cluster's dialect (${d.id}) right?`,
    );
  }
  const entries: ReplicationEntry[] = [];
  for (const [i, row] of rows.entries()) {
    const r = rowReader(row);
    const pid = r.int('pid');
    if (pid == null) return failed(`${d.sql.statReplication} row ${i + 1}: pid is ${show(r.raw('pid'))}`);
    entries.push({
      pid,
      applicationName: r.text('application_name') ?? '',
      clientAddr: r.text('client_addr'),
      state: r.text('state')?.toLowerCase() ?? '',
      sent: r.text(d.sql.sentColumn),
      write: r.text(d.sql.writeColumn),
      flush: r.text(d.sql.flushColumn),
      replay: r.text(d.sql.replayColumn),
      syncState: r.text('sync_state')?.toLowerCase() ?? null,
    });
  }
  return parsed(entries);
}

/**
 * replay_lag in seconds per walsender pid, for servers whose replication view has the column (PG ≥ 10;
 * V8R3 has none: ask only when replicationSql's rows show a replay_lag column).
 */
export const replayLagSql = (d: Dialect): SqlProbe =>
  sqlProbe(`select pid, extract(epoch from replay_lag) as replay_lag_seconds from ${d.sql.statReplication}`);

/** pid → seconds; null where the server has measured nothing lately (an idle, caught-up standby). */
export function parseReplayLag(rows: readonly Row[]): Parsed<Map<number, number | null>> {
  const missing = missingColumns(rows, ['pid', 'replay_lag_seconds']);
  if (missing.length > 0) return failed(`the replay lag query has no ${missing.join(', ')} column`);
  const out = new Map<number, number | null>();
  for (const [i, row] of rows.entries()) {
    const r = rowReader(row);
    const pid = r.int('pid');
    const seconds = r.num('replay_lag_seconds');
    if (pid == null) return failed(`replay lag row ${i + 1}: pid is ${show(r.raw('pid'))}`);
    if (seconds === undefined)
      return failed(`replay lag row ${i + 1}: replay_lag_seconds is ${show(r.raw('replay_lag_seconds'))}`);
    out.set(pid, seconds);
  }
  return parsed(out);
}

/** Whether rows of replicationSql come from a server that measures replay_lag. */
export const hasReplayLag = (rows: readonly Row[]): boolean =>
  rows[0] !== undefined && rowReader(rows[0]).has('replay_lag');
