import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePsqlTable } from '../../../src/probes/psql-table';

/** A fixture's text: test/fixtures/<dir>/<name>. */
export const fixtureText = (path: string): string =>
  readFileSync(join(__dirname, '..', '..', 'fixtures', path), 'utf8');

/** A psql/ksql table fixture as rows. */
export const fixtureRows = (path: string): Record<string, string>[] => parsePsqlTable(fixtureText(path));

/** The same rows with every column name upper-cased, as V8R3 can send them. */
export const upperCased = (rows: readonly Record<string, unknown>[]): Record<string, unknown>[] =>
  rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k.toUpperCase(), v])));

/** The value of a parse that must have succeeded. */
export function valueOf<T>(p: { ok: true; value: T } | { ok: false; reason: string }): T {
  if (!p.ok) throw new Error(`expected a value, got: ${p.reason}`);
  return p.value;
}
