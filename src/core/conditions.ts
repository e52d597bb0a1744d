import type { Json } from './json';
import type { Condition, Observation } from './plan';

// Conditions judge what a probe observed. A condition that does not hold gives a reason a human can
// act on; nothing here throws, not even for an observation of the wrong kind or a bad pattern.

export type ConditionResult = { ok: true } | { ok: false; reason: string };

const OK: ConditionResult = { ok: true };
const fail = (reason: string): ConditionResult => ({ ok: false, reason });

/** Evaluates `condition` against `observation`. */
export function evaluate(condition: Condition, observation: Observation): ConditionResult {
  switch (condition.kind) {
    case 'exit-code': {
      if (observation.kind !== 'ssh') return wrongKind(condition, observation, 'ssh');
      if (observation.exitCode === condition.equals) return OK;
      const got =
        observation.exitCode === null
          ? 'the command did not exit normally (no exit code, e.g. killed by a signal)'
          : `exit code ${observation.exitCode}`;
      return fail(`${got}, expected exit code ${condition.equals}${stderrTail(observation.stderr)}`);
    }
    case 'row-count': {
      if (observation.kind !== 'sql') return wrongKind(condition, observation, 'sql');
      const n = observation.rows.length;
      const { min, max } = condition;
      if ((min === undefined || n >= min) && (max === undefined || n <= max)) return OK;
      return fail(`row-count ${n}, expected ${rowCountText(min, max)}`);
    }
    case 'column-equals':
    case 'column-at-least': {
      if (observation.kind !== 'sql') return wrongKind(condition, observation, 'sql');
      return everyRow(condition, observation.rows);
    }
    case 'stdout-matches': {
      if (observation.kind !== 'ssh') return wrongKind(condition, observation, 'ssh');
      const re = compile(condition.pattern);
      if (typeof re === 'string') return fail(`the pattern /${condition.pattern}/ is not valid: ${re}`);
      if (re.test(observation.stdout)) return OK;
      return fail(`output does not match /${condition.pattern}/ (output: ${excerpt(observation.stdout)})`);
    }
    case 'file-sha': {
      if (observation.kind !== 'file') return wrongKind(condition, observation, 'file');
      const got = observation.sha256;
      const want = condition.sha256;
      if (got === want) return OK;
      if (want === null)
        return fail(`the file exists (sha256 ${short(got ?? '')}), expected it to be absent`);
      if (got === null) return fail(`the file is absent, expected it with sha256 ${short(want)}`);
      return fail(`the file has sha256 ${short(got)}, expected ${short(want)} (it was changed)`);
    }
    case 'some-row': {
      if (observation.kind !== 'sql') return wrongKind(condition, observation, 'sql');
      const wanted = Object.entries(condition.where);
      const hit = observation.rows.some((row) =>
        wanted.every(([column, value]) => {
          const key = findColumn(row, column);
          return key !== undefined && checkEquals(row[key] as Json, { column, value }) === undefined;
        }),
      );
      return hit ? OK : fail(`no ${describeCondition(condition)} among ${observation.rows.length} rows`);
    }
    case 'all': {
      for (const c of condition.of) {
        const r = evaluate(c, observation);
        if (!r.ok) return r;
      }
      return OK;
    }
    case 'any': {
      if (condition.of.length === 0) return fail('"any" of no conditions never holds');
      const reasons: string[] = [];
      for (const c of condition.of) {
        const r = evaluate(c, observation);
        if (r.ok) return OK;
        reasons.push(r.reason);
      }
      return fail(`none held: ${reasons.join('; ')}`);
    }
    case 'not': {
      const r = evaluate(condition.of, observation);
      if (!r.ok) return OK;
      return fail(`expected not (${describeCondition(condition.of)}), but it holds`);
    }
  }
}

/** One-line human description of a condition, e.g. "state = 'streaming'" (used in reasons and plans). */
export function describeCondition(condition: Condition): string {
  switch (condition.kind) {
    case 'exit-code':
      return `exit code ${condition.equals}`;
    case 'row-count':
      return rowCountText(condition.min, condition.max);
    case 'column-equals':
      return `${condition.column} = ${showValue(condition.value)}`;
    case 'column-at-least':
      return `${condition.column} >= ${condition.value}`;
    case 'stdout-matches':
      return `output matches /${condition.pattern}/`;
    case 'file-sha':
      return condition.sha256 === null
        ? 'the file is absent'
        : `the file has sha256 ${short(condition.sha256)}`;
    case 'some-row':
      return `a row with ${Object.entries(condition.where)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k} = ${showValue(v)}`)
        .join(', ')}`;
    case 'all':
      return condition.of.length === 0 ? 'always' : condition.of.map(nested).join(' and ');
    case 'any':
      return condition.of.length === 0 ? 'never' : condition.of.map(nested).join(' or ');
    case 'not':
      if (condition.of.kind === 'file-sha' && condition.of.sha256 === null) return 'the file exists';
      if (condition.of.kind === 'exit-code') return `an exit code other than ${condition.of.equals}`;
      return `not ${nested(condition.of)}`;
  }
}

const nested = (c: Condition): string =>
  c.kind === 'all' || c.kind === 'any' ? `(${describeCondition(c)})` : describeCondition(c);

function rowCountText(min: number | undefined, max: number | undefined): string {
  const rows = (n: number): string => `${n} row${n === 1 ? '' : 's'}`;
  if (min !== undefined && max !== undefined)
    return min === max ? `exactly ${rows(min)}` : `between ${min} and ${max} rows`;
  if (min !== undefined) return `at least ${rows(min)}`;
  if (max !== undefined) return `at most ${rows(max)}`;
  return 'any number of rows';
}

function wrongKind(condition: Condition, observation: Observation, expected: string): ConditionResult {
  return fail(
    `a ${condition.kind} condition needs an ${expected} observation, but the probe gave a ${observation.kind} one`,
  );
}

// Column conditions hold when the result has at least one row and every row satisfies them: a query
// that should pick one row says so with its WHERE clause, and an empty result is never a pass.
function everyRow(
  condition: Extract<Condition, { kind: 'column-equals' | 'column-at-least' }>,
  rows: readonly Record<string, Json>[],
): ConditionResult {
  if (rows.length === 0) return fail(`no rows, expected ${describeCondition(condition)}`);
  for (const [i, row] of rows.entries()) {
    const where = rows.length > 1 ? `row ${i + 1}: ` : '';
    const key = findColumn(row, condition.column);
    if (key === undefined) {
      const cols = Object.keys(row);
      return fail(
        `${where}no column ${condition.column} in the result (columns: ${cols.length > 0 ? cols.join(', ') : 'none'})`,
      );
    }
    const value = row[key] as Json;
    const r =
      condition.kind === 'column-equals' ? checkEquals(value, condition) : checkAtLeast(value, condition);
    if (r !== undefined) return fail(`${where}${r}`);
  }
  return OK;
}

/** Exact name first, then case-insensitively (KingbaseES V8R3 may return upper-case headers). */
export function findColumn(row: Readonly<Record<string, Json>>, column: string): string | undefined {
  if (Object.hasOwn(row, column)) return column;
  const lower = column.toLowerCase();
  return Object.keys(row).find((k) => k.toLowerCase() === lower);
}

function checkEquals(value: Json, c: { column: string; value: Json }): string | undefined {
  if (jsonEquals(value, c.value)) return undefined;
  return `column ${c.column} = ${showValue(value)}, expected ${showValue(c.value)}`;
}

function checkAtLeast(value: Json, c: { column: string; value: number }): string | undefined {
  const cmp = compareNumeric(value, c.value);
  if (cmp === undefined)
    return `column ${c.column} = ${showValue(value)} is not a number, expected at least ${c.value}`;
  return cmp >= 0 ? undefined : `column ${c.column} = ${showValue(value)}, expected at least ${c.value}`;
}

/** Deep JSON equality, where a number and a numeric string are equal (bigint/numeric arrive as text). */
function jsonEquals(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'string') return compareNumeric(b, a) === 0;
  if (typeof a === 'string' && typeof b === 'number') return compareNumeric(a, b) === 0;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v: Json, i: number) => jsonEquals(v, b[i] as Json));
  }
  const ao = a as { readonly [k: string]: Json };
  const bo = b as { readonly [k: string]: Json };
  const keys = Object.keys(ao);
  if (keys.length !== Object.keys(bo).length) return false;
  return keys.every((k) => Object.hasOwn(bo, k) && jsonEquals(ao[k] as Json, bo[k] as Json));
}

const INTEGER = /^[-+]?\d+$/;
const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** Sign of value - expected, or undefined when value is not a number. Integers compare exactly (bigint). */
function compareNumeric(value: Json, expected: number): number | undefined {
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : Math.sign(value - expected);
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (INTEGER.test(text) && Number.isInteger(expected)) {
    const d = BigInt(text) - BigInt(expected);
    return d === 0n ? 0 : d > 0n ? 1 : -1;
  }
  if (!DECIMAL.test(text)) return undefined;
  return Math.sign(Number(text) - expected);
}

function compile(pattern: string): RegExp | string {
  try {
    // Multi-line, so ^ and $ match at each line of the output.
    return new RegExp(pattern, 'm');
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const showValue = (v: Json): string =>
  typeof v === 'string' ? `'${v}'` : v === null ? 'null' : JSON.stringify(v);

const short = (sha: string): string => `${sha.slice(0, 12)}…`;

function excerpt(text: string, max = 200): string {
  const t = text.trim();
  if (t === '') return 'empty';
  return JSON.stringify(t.length > max ? `${t.slice(0, max)}…` : t);
}

function stderrTail(stderr: string): string {
  const t = stderr.trim();
  if (t === '') return '';
  const lines = t.split('\n');
  return ` (stderr: ${excerpt(lines.slice(-3).join('\n'))})`;
}
