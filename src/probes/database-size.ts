import type { Dialect } from '../dialects/dialect';
import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { rowReader, show } from './row-reader';

// The size of one database, to estimate the base backup (it copies every database, so the planner
// sums them or uses the largest as a floor) and to check the new host's free disk.

/** The database named, or the one connected to. */
export const databaseSizeSql = (d: Dialect, database?: string): SqlProbe =>
  database === undefined
    ? sqlProbe(`select ${d.sql.databaseSize}(current_database()) as bytes`)
    : sqlProbe(`select ${d.sql.databaseSize}($1) as bytes`, [database]);

/** Every database of the instance together: what a base backup copies. */
export const instanceSizeSql = (d: Dialect): SqlProbe =>
  sqlProbe(`select sum(${d.sql.databaseSize}(oid))::bigint as bytes from ${d.sql.databaseCatalog}`);

/** Bytes. */
export function parseDatabaseSize(rows: readonly Row[]): Parsed<number> {
  const row = rows[0];
  if (row === undefined) return failed('the database size query returned no row');
  const r = rowReader(row);
  const bytes = r.int('bytes');
  return bytes == null ? failed(`bytes is ${show(r.raw('bytes'))}, not a number`) : parsed(bytes);
}
