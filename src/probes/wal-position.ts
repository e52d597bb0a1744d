import type { Dialect } from '../dialects/dialect';
import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { rowReader, show } from './row-reader';

// WAL positions: `X/Y`, two hex numbers, the high and low 32 bits of a byte position.

/**
 * The node's own position: the current write position on a primary, the last replayed one on a standby
 * (the current-position function fails during recovery). CASE evaluates only the branch it takes; both
 * functions are volatile, so neither is folded at plan time.
 */
export const walPositionSql = (d: Dialect): SqlProbe =>
  sqlProbe(
    `select ${d.sql.isInRecovery}() as in_recovery, case when ${d.sql.isInRecovery}() ` +
      `then ${d.sql.lastReplayPosition}() else ${d.sql.currentWalPosition}() end as position`,
  );

/** A primary's current position (fails on a standby). */
export const currentWalPositionSql = (d: Dialect): SqlProbe =>
  sqlProbe(`select ${d.sql.currentWalPosition}() as position`);

/** A standby's last replayed position (null on a primary). */
export const lastReplayPositionSql = (d: Dialect): SqlProbe =>
  sqlProbe(`select ${d.sql.lastReplayPosition}() as position`);

/** Bytes from `to` back to `from` (positive when `from` is ahead), computed by the server. */
export const walDiffSql = (d: Dialect, from: string, to: string): SqlProbe =>
  sqlProbe(`select ${d.sql.walPositionDiff}($1, $2) as bytes`, [from, to]);

export interface WalPosition {
  readonly inRecovery: boolean;
  /** null: a standby that has replayed nothing yet. */
  readonly position: string | null;
}

export function parseWalPosition(rows: readonly Row[]): Parsed<WalPosition> {
  const row = rows[0];
  if (row === undefined) return failed('the WAL position query returned no row');
  const r = rowReader(row);
  const inRecovery = r.bool('in_recovery');
  if (inRecovery == null) return failed(`in_recovery is ${show(r.raw('in_recovery'))}, not a boolean`);
  const position = parsePositionText(r.text('position'));
  return position.ok ? parsed({ inRecovery, position: position.value }) : position;
}

/** The `position` column of currentWalPositionSql / lastReplayPositionSql. */
export function parsePosition(rows: readonly Row[]): Parsed<string | null> {
  const row = rows[0];
  if (row === undefined) return failed('the WAL position query returned no row');
  return parsePositionText(rowReader(row).text('position'));
}

export function parseWalDiff(rows: readonly Row[]): Parsed<number | null> {
  const row = rows[0];
  if (row === undefined) return failed('the WAL difference query returned no row');
  const r = rowReader(row);
  const bytes = r.num('bytes');
  return bytes === undefined ? failed(`bytes is ${show(r.raw('bytes'))}, not a number`) : parsed(bytes);
}

function parsePositionText(text: string | null): Parsed<string | null> {
  if (text === null) return parsed(null);
  return lsnToBigInt(text) === null ? failed(`${show(text)} is not a WAL position (X/Y)`) : parsed(text);
}

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

/** `'0/180000D0'` → 402653392n; null when the text is not a WAL position. */
export function lsnToBigInt(lsn: string): bigint | null {
  const m = LSN.exec(lsn.trim());
  if (!m) return null;
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

/** 402653392n → `'0/180000D0'`, as the server prints it (upper-case hex, no padding). */
export function bigIntToLsn(n: bigint): string {
  return `${(n >> 32n).toString(16).toUpperCase()}/${(n & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** `from - to` in bytes (like pg_wal_lsn_diff), or null when either is not a WAL position. */
export function lsnDiff(from: string, to: string): bigint | null {
  const a = lsnToBigInt(from);
  const b = lsnToBigInt(to);
  return a === null || b === null ? null : a - b;
}
