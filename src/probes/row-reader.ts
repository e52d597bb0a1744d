import type { Row } from './probe';

// Column names are matched case-insensitively: KingbaseES V8R3 can send headers upper-case.
// Values come typed from node-postgres (numbers, booleans, bigints as text) or as text from psql output,
// where a NULL and an empty string both print as a blank cell: blank text reads as null here.

export interface RowReader {
  has(column: string): boolean;
  raw(column: string): unknown;
  /** Text, or null for NULL / blank. */
  text(column: string): string | null;
  /** A whole number, null for NULL / blank, undefined when the value is not one. */
  int(column: string): number | null | undefined;
  /** A number (decimal allowed), null for NULL / blank, undefined when the value is not one. */
  num(column: string): number | null | undefined;
  /** t/f, true/false, on/off, yes/no, 1/0; null for NULL / blank, undefined when not one of those. */
  bool(column: string): boolean | null | undefined;
}

const TRUE = new Set(['t', 'true', 'on', 'yes', 'y', '1']);
const FALSE = new Set(['f', 'false', 'off', 'no', 'n', '0']);

export function rowReader(row: Row): RowReader {
  const keys = new Map<string, string>();
  for (const k of Object.keys(row)) if (!keys.has(k.toLowerCase())) keys.set(k.toLowerCase(), k);
  const raw = (column: string): unknown => {
    const key = keys.get(column.toLowerCase());
    return key === undefined ? undefined : row[key];
  };
  const text = (column: string): string | null => {
    const v = raw(column);
    if (v === null || v === undefined) return null;
    const s = (typeof v === 'string' ? v : String(v)).trim();
    return s === '' ? null : s;
  };
  const number = (column: string, pattern: RegExp): number | null | undefined => {
    const v = raw(column);
    if (typeof v === 'number')
      return Number.isFinite(v) && (pattern === DECIMAL || Number.isInteger(v)) ? v : undefined;
    if (typeof v === 'bigint') return Number(v);
    const s = text(column);
    if (s === null) return null;
    return pattern.test(s) ? Number(s) : undefined;
  };
  return {
    has: (column) => keys.has(column.toLowerCase()),
    raw,
    text,
    int: (column) => number(column, INTEGER),
    num: (column) => number(column, DECIMAL),
    bool: (column) => {
      const v = raw(column);
      if (typeof v === 'boolean') return v;
      const s = text(column)?.toLowerCase() ?? null;
      if (s === null) return null;
      return TRUE.has(s) ? true : FALSE.has(s) ? false : undefined;
    },
  };
}

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** The columns none of the rows has (compared case-insensitively); [] when there are no rows. */
export function missingColumns(rows: readonly Row[], columns: readonly string[]): string[] {
  const first = rows[0];
  if (first === undefined) return [];
  const reader = rowReader(first);
  return columns.filter((c) => !reader.has(c));
}

/** Column names of a row set, lower-cased, for error messages. */
export const columnList = (rows: readonly Row[]): string =>
  Object.keys(rows[0] ?? {})
    .map((k) => k.toLowerCase())
    .join(', ');

/** A value for an error message. */
export const show = (v: unknown): string =>
  v === undefined || v === null || v === '' ? 'empty' : JSON.stringify(typeof v === 'bigint' ? String(v) : v);

/** The object without its undefined properties, so optional fields are absent rather than undefined. */
export function definedOnly<T extends Record<string, unknown>>(
  o: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
