import { describeCondition, evaluate, findColumn } from '../../../src/core/conditions';
import type { Json } from '../../../src/core/json';
import type { Condition, Observation } from '../../../src/core/plan';

const sql = (...rows: Record<string, Json>[]): Observation => ({ kind: 'sql', rows });
const ssh = (exitCode: number | null, stdout = '', stderr = ''): Observation => ({
  kind: 'ssh',
  exitCode,
  stdout,
  stderr,
});
const file = (sha256: string | null): Observation => ({ kind: 'file', sha256 });
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

const reason = (c: Condition, o: Observation): string => {
  const r = evaluate(c, o);
  if (r.ok) throw new Error(`expected ${describeCondition(c)} to fail`);
  return r.reason;
};

describe('exit-code', () => {
  it('holds for the expected code', () => {
    expect(evaluate({ kind: 'exit-code', equals: 0 }, ssh(0))).toEqual({ ok: true });
    expect(evaluate({ kind: 'exit-code', equals: 3 }, ssh(3))).toEqual({ ok: true });
  });
  it('explains another code, with the end of stderr', () => {
    expect(
      reason(
        { kind: 'exit-code', equals: 0 },
        ssh(1, '', 'line1\nline2\nline3\nsys_ctl: no server running\n'),
      ),
    ).toBe('exit code 1, expected exit code 0 (stderr: "line2\\nline3\\nsys_ctl: no server running")');
    expect(reason({ kind: 'exit-code', equals: 0 }, ssh(2))).toBe('exit code 2, expected exit code 0');
  });
  it('explains a command killed by a signal', () => {
    expect(reason({ kind: 'exit-code', equals: 0 }, ssh(null))).toMatch(
      /did not exit normally.*expected exit code 0/,
    );
  });
});

describe('row-count', () => {
  it('checks min, max, both and neither', () => {
    expect(reason({ kind: 'row-count', min: 1 }, sql())).toBe('row-count 0, expected at least 1 row');
    expect(reason({ kind: 'row-count', max: 0 }, sql({ a: 1 }))).toBe('row-count 1, expected at most 0 rows');
    expect(reason({ kind: 'row-count', min: 2, max: 3 }, sql({ a: 1 }))).toBe(
      'row-count 1, expected between 2 and 3 rows',
    );
    expect(reason({ kind: 'row-count', min: 1, max: 1 }, sql({ a: 1 }, { a: 2 }))).toBe(
      'row-count 2, expected exactly 1 row',
    );
    expect(evaluate({ kind: 'row-count', min: 1, max: 2 }, sql({ a: 1 }, { a: 2 }))).toEqual({ ok: true });
    expect(evaluate({ kind: 'row-count' }, sql())).toEqual({ ok: true });
  });
});

describe('column-equals', () => {
  const streaming: Condition = { kind: 'column-equals', column: 'state', value: 'streaming' };

  it('holds when every row has the value', () => {
    expect(evaluate(streaming, sql({ state: 'streaming' }, { state: 'streaming' }))).toEqual({ ok: true });
  });
  it('names the column, the value seen and the value expected', () => {
    expect(reason(streaming, sql({ application_name: 'srv159', state: 'catchup' }))).toBe(
      "column state = 'catchup', expected 'streaming'",
    );
  });
  it('says which row differs when there are several', () => {
    expect(reason(streaming, sql({ state: 'streaming' }, { state: 'catchup' }))).toBe(
      "row 2: column state = 'catchup', expected 'streaming'",
    );
  });
  it('never passes on an empty result', () => {
    expect(reason(streaming, sql())).toBe("no rows, expected state = 'streaming'");
  });
  it('finds columns case-insensitively (V8R3 may return upper-case headers)', () => {
    expect(evaluate(streaming, sql({ STATE: 'streaming' }))).toEqual({ ok: true });
    expect(
      evaluate({ kind: 'column-equals', column: 'STATE', value: 'streaming' }, sql({ state: 'streaming' })),
    ).toEqual({ ok: true });
    expect(findColumn({ state: 1, State: 2 }, 'State')).toBe('State');
    expect(findColumn({ STATE: 1 }, 'state')).toBe('STATE');
    expect(findColumn({ x: 1 }, 'state')).toBeUndefined();
  });
  it('lists the columns when one is missing', () => {
    expect(reason(streaming, sql({ pid: 1, usename: 'SYSTEM' }))).toBe(
      'no column state in the result (columns: pid, usename)',
    );
  });
  it('compares numbers with numeric strings (bigint arrives as text), and other values exactly', () => {
    expect(
      evaluate({ kind: 'column-equals', column: 'count', value: 21000000 }, sql({ count: '21000000' })),
    ).toEqual({
      ok: true,
    });
    expect(evaluate({ kind: 'column-equals', column: 'n', value: '3' }, sql({ n: 3 }))).toEqual({ ok: true });
    expect(reason({ kind: 'column-equals', column: 'n', value: 3 }, sql({ n: '3x' }))).toBe(
      "column n = '3x', expected 3",
    );
    expect(reason({ kind: 'column-equals', column: 'f', value: false }, sql({ f: 'f' }))).toBe(
      "column f = 'f', expected false",
    );
    expect(reason({ kind: 'column-equals', column: 'v', value: null }, sql({ v: 'x' }))).toBe(
      "column v = 'x', expected null",
    );
    expect(evaluate({ kind: 'column-equals', column: 'v', value: null }, sql({ v: null }))).toEqual({
      ok: true,
    });
    expect(
      evaluate({ kind: 'column-equals', column: 'j', value: { a: [1, 'b'] } }, sql({ j: { a: [1, 'b'] } })),
    ).toEqual({ ok: true });
    expect(
      evaluate({ kind: 'column-equals', column: 'j', value: { a: [1] } }, sql({ j: { a: [1, 2] } })).ok,
    ).toBe(false);
    expect(evaluate({ kind: 'column-equals', column: 'j', value: { a: 1 } }, sql({ j: { b: 1 } })).ok).toBe(
      false,
    );
  });
});

describe('column-at-least', () => {
  const atLeast = (value: number): Condition => ({ kind: 'column-at-least', column: 'n', value });

  it('compares numerically, also for numeric strings', () => {
    expect(evaluate(atLeast(10), sql({ n: 10 }))).toEqual({ ok: true });
    expect(evaluate(atLeast(9), sql({ n: '10' }))).toEqual({ ok: true }); // '10' < '9' as text
    expect(evaluate(atLeast(1.5), sql({ n: '1.75' }))).toEqual({ ok: true });
    expect(reason(atLeast(10), sql({ n: '9' }))).toBe("column n = '9', expected at least 10");
    expect(reason(atLeast(10), sql({ n: 9.5 }))).toBe('column n = 9.5, expected at least 10');
  });
  it('compares big integers exactly', () => {
    expect(evaluate(atLeast(9007199254740991), sql({ n: '9007199254740993' }))).toEqual({ ok: true });
    expect(evaluate(atLeast(0), sql({ n: '-9007199254740993' })).ok).toBe(false);
  });
  it('refuses values that are not numbers', () => {
    expect(reason(atLeast(1), sql({ n: 'abc' }))).toBe(
      "column n = 'abc' is not a number, expected at least 1",
    );
    expect(reason(atLeast(1), sql({ n: null }))).toBe('column n = null is not a number, expected at least 1');
    expect(reason(atLeast(1), sql({ n: '' }))).toMatch(/is not a number/);
  });
  it('checks every row, and fails on none', () => {
    expect(reason(atLeast(5), sql({ N: 7 }, { N: 4 }))).toBe('row 2: column n = 4, expected at least 5');
    expect(reason(atLeast(5), sql())).toBe('no rows, expected n >= 5');
  });
});

describe('stdout-matches', () => {
  it('matches per line (multi-line mode)', () => {
    const c: Condition = { kind: 'stdout-matches', pattern: '^server is running' };
    expect(evaluate(c, ssh(0, 'sys_ctl: \nserver is running (PID: 5071)\n'))).toEqual({ ok: true });
  });
  it('quotes the output when it does not match', () => {
    expect(reason({ kind: 'stdout-matches', pattern: 'up' }, ssh(0, 'down\n'))).toBe(
      'output does not match /up/ (output: "down")',
    );
    expect(reason({ kind: 'stdout-matches', pattern: 'up' }, ssh(0, ''))).toBe(
      'output does not match /up/ (output: empty)',
    );
  });
  it('shortens long output', () => {
    expect(reason({ kind: 'stdout-matches', pattern: 'z' }, ssh(0, 'x'.repeat(500))).length).toBeLessThan(
      260,
    );
  });
  it('reports a bad pattern instead of throwing', () => {
    expect(reason({ kind: 'stdout-matches', pattern: '(' }, ssh(0, '('))).toMatch(
      /^the pattern \/\(\/ is not valid/,
    );
  });
});

describe('file-sha', () => {
  it('holds for the same digest, and for absence when null', () => {
    expect(evaluate({ kind: 'file-sha', sha256: SHA_A }, file(SHA_A))).toEqual({ ok: true });
    expect(evaluate({ kind: 'file-sha', sha256: null }, file(null))).toEqual({ ok: true });
  });
  it('explains changed, missing and unexpected files', () => {
    expect(reason({ kind: 'file-sha', sha256: SHA_A }, file(SHA_B))).toBe(
      'the file has sha256 bbbbbbbbbbbb…, expected aaaaaaaaaaaa… (it was changed)',
    );
    expect(reason({ kind: 'file-sha', sha256: SHA_A }, file(null))).toBe(
      'the file is absent, expected it with sha256 aaaaaaaaaaaa…',
    );
    expect(reason({ kind: 'file-sha', sha256: null }, file(SHA_B))).toBe(
      'the file exists (sha256 bbbbbbbbbbbb…), expected it to be absent',
    );
  });
});

describe('all / any / not', () => {
  const one: Condition = { kind: 'row-count', min: 1 };
  const streaming: Condition = { kind: 'column-equals', column: 'state', value: 'streaming' };

  it('all: the first failing reason', () => {
    expect(evaluate({ kind: 'all', of: [one, streaming] }, sql({ state: 'streaming' }))).toEqual({
      ok: true,
    });
    expect(reason({ kind: 'all', of: [one, streaming] }, sql())).toBe('row-count 0, expected at least 1 row');
    expect(evaluate({ kind: 'all', of: [] }, sql())).toEqual({ ok: true });
  });
  it('any: every reason when none holds', () => {
    expect(evaluate({ kind: 'any', of: [streaming, one] }, sql({ state: 'catchup' }))).toEqual({ ok: true });
    expect(reason({ kind: 'any', of: [streaming, { kind: 'row-count', min: 2 }] }, sql({ state: 'x' }))).toBe(
      "none held: column state = 'x', expected 'streaming'; row-count 1, expected at least 2 rows",
    );
    expect(reason({ kind: 'any', of: [] }, sql())).toBe('"any" of no conditions never holds');
  });
  it('not: inverts, describing what held', () => {
    expect(evaluate({ kind: 'not', of: one }, sql())).toEqual({ ok: true });
    expect(reason({ kind: 'not', of: streaming }, sql({ state: 'streaming' }))).toBe(
      "expected not (state = 'streaming'), but it holds",
    );
  });
});

describe('mismatched observation kinds', () => {
  it.each<[Condition, Observation]>([
    [{ kind: 'exit-code', equals: 0 }, sql()],
    [{ kind: 'row-count', min: 1 }, ssh(0)],
    [{ kind: 'column-equals', column: 'a', value: 1 }, file(null)],
    [{ kind: 'column-at-least', column: 'a', value: 1 }, ssh(0)],
    [{ kind: 'stdout-matches', pattern: '.' }, sql()],
    [{ kind: 'file-sha', sha256: null }, ssh(0)],
  ])('%j on %j is a reason, not a throw', (c, o) => {
    expect(reason(c, o)).toBe(
      `a ${c.kind} condition needs an ${kindFor(c)} observation, but the probe gave a ${o.kind} one`,
    );
  });
});

const kindFor = (c: Condition): string =>
  c.kind === 'exit-code' || c.kind === 'stdout-matches' ? 'ssh' : c.kind === 'file-sha' ? 'file' : 'sql';

describe('describeCondition', () => {
  it('reads like the plan', () => {
    expect(
      describeCondition({
        kind: 'all',
        of: [
          { kind: 'exit-code', equals: 0 },
          {
            kind: 'any',
            of: [
              { kind: 'column-at-least', column: 'lag', value: 0 },
              { kind: 'file-sha', sha256: null },
            ],
          },
          { kind: 'not', of: { kind: 'stdout-matches', pattern: 'down' } },
        ],
      }),
    ).toBe('exit code 0 and (lag >= 0 or the file is absent) and not output matches /down/');
    expect(describeCondition({ kind: 'all', of: [] })).toBe('always');
    expect(describeCondition({ kind: 'any', of: [] })).toBe('never');
    expect(describeCondition({ kind: 'file-sha', sha256: SHA_A })).toBe('the file has sha256 aaaaaaaaaaaa…');
    expect(describeCondition({ kind: 'column-equals', column: 'active', value: true })).toBe('active = true');
  });
});
