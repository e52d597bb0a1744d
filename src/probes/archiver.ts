import type { Dialect } from '../dialects/dialect';
import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { columnList, missingColumns, rowReader, show } from './row-reader';
import type { ArchiverState } from './report-reading';

// The primary's WAL archiver (pg_stat_archiver / sys_stat_archiver) with archive_mode: `archive_ready`
// in check_postgres and repmgr terms. Times come as epoch seconds, so typed rows (node-pg) and psql
// text read the same and no server time zone leaks into the result.

export const archiverSql = (d: Dialect): SqlProbe =>
  sqlProbe(
    'select a.archived_count, a.last_archived_wal, ' +
      'extract(epoch from a.last_archived_time) as last_archived_epoch, ' +
      'a.failed_count, a.last_failed_wal, extract(epoch from a.last_failed_time) as last_failed_epoch, ' +
      `(select s.setting from ${d.sql.settingsView} s where s.name = 'archive_mode') as archive_mode ` +
      `from ${d.sql.statArchiver} a`,
  );

const COLUMNS = [
  'archived_count',
  'last_archived_wal',
  'last_archived_epoch',
  'failed_count',
  'last_failed_wal',
  'last_failed_epoch',
  'archive_mode',
];

export function parseArchiver(rows: readonly Row[]): Parsed<ArchiverState> {
  const row = rows[0];
  if (row === undefined) return failed('the archiver view returned no row');
  const missing = missingColumns(rows, COLUMNS);
  if (missing.length > 0)
    return failed(`the archiver query has no ${missing.join(', ')} column (columns: ${columnList(rows)})`);
  const r = rowReader(row);
  const archiveMode = r.text('archive_mode')?.toLowerCase() ?? null;
  if (archiveMode === null) return failed('archive_mode is not among the server settings');
  const archivedCount = r.int('archived_count');
  const failedCount = r.int('failed_count');
  if (archivedCount == null) return failed(`archived_count is ${show(r.raw('archived_count'))}`);
  if (failedCount == null) return failed(`failed_count is ${show(r.raw('failed_count'))}`);
  const lastArchivedAt = isoOf(r.num('last_archived_epoch'));
  const lastFailedAt = isoOf(r.num('last_failed_epoch'));
  if (lastArchivedAt === undefined)
    return failed(`last_archived_time is ${show(r.raw('last_archived_epoch'))}, not a time`);
  if (lastFailedAt === undefined)
    return failed(`last_failed_time is ${show(r.raw('last_failed_epoch'))}, not a time`);
  return parsed({
    archiveMode,
    archivedCount,
    failedCount,
    lastArchivedWal: r.text('last_archived_wal'),
    lastArchivedAt,
    lastFailedWal: r.text('last_failed_wal'),
    lastFailedAt,
  });
}

/** Epoch seconds → ISO; null stays null (never archived / never failed), anything else is undefined. */
function isoOf(seconds: number | null | undefined): string | null | undefined {
  if (seconds === null || seconds === undefined) return seconds;
  return new Date(Math.round(seconds * 1000)).toISOString();
}
