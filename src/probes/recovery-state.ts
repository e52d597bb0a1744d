import type { Dialect } from '../dialects/dialect';
import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { rowReader, show } from './row-reader';

// In recovery = a standby (or a node still starting up); not in recovery = a primary.

export const recoveryStateSql = (d: Dialect): SqlProbe =>
  sqlProbe(`select ${d.sql.isInRecovery}() as in_recovery`);

/** true on a standby. The column is read by name, or the only column (psql output of another alias). */
export function parseRecoveryState(rows: readonly Row[]): Parsed<boolean> {
  const row = rows[0];
  if (row === undefined) return failed('the recovery state query returned no row');
  const r = rowReader(row);
  const only = Object.keys(row);
  const column = r.has('in_recovery') ? 'in_recovery' : only.length === 1 ? (only[0] as string) : null;
  if (column === null) return failed(`no in_recovery column (columns: ${only.join(', ')})`);
  const value = r.bool(column);
  return value == null ? failed(`${column} is ${show(r.raw(column))}, not a boolean`) : parsed(value);
}
