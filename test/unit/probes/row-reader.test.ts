import { columnList, definedOnly, missingColumns, rowReader, show } from '../../../src/probes/row-reader';

describe('rowReader', () => {
  it('finds columns whatever their case', () => {
    const r = rowReader({ NODE_ID: '1', Hostname: 'h' });
    expect(r.has('node_id')).toBe(true);
    expect(r.text('HOSTNAME')).toBe('h');
    expect(r.has('port')).toBe(false);
    expect(r.raw('port')).toBeUndefined();
  });

  it('reads blank text and NULL as null', () => {
    const r = rowReader({ a: '', b: '  ', c: null, d: ' x ' });
    expect([r.text('a'), r.text('b'), r.text('c'), r.text('d'), r.text('missing')]).toEqual([
      null,
      null,
      null,
      'x',
      null,
    ]);
  });

  it('reads numbers from text and typed values, undefined when not one', () => {
    const r = rowReader({ a: '42', b: 42, c: '0.333333', d: 'x', e: '', f: 1.5, g: 10n, h: '1e3' });
    expect([r.int('a'), r.int('b'), r.int('c'), r.int('d'), r.int('e'), r.int('f'), r.int('g')]).toEqual([
      42,
      42,
      undefined,
      undefined,
      null,
      undefined,
      10,
    ]);
    expect([r.num('c'), r.num('f'), r.num('h'), r.num('d')]).toEqual([0.333333, 1.5, 1000, undefined]);
  });

  it('reads booleans as psql, pgpool and node-postgres give them', () => {
    const r = rowReader({ a: 't', b: 'false', c: true, d: 'ON', e: 'maybe', f: null });
    expect([r.bool('a'), r.bool('b'), r.bool('c'), r.bool('d'), r.bool('e'), r.bool('f')]).toEqual([
      true,
      false,
      true,
      true,
      undefined,
      null,
    ]);
  });

  it('takes the first of two columns differing only in case', () => {
    expect(rowReader({ x: '1', X: '2' }).text('x')).toBe('1');
  });
});

describe('row helpers', () => {
  it('lists missing columns case-insensitively, none for no rows', () => {
    expect(missingColumns([{ A: 1 }], ['a', 'b'])).toEqual(['b']);
    expect(missingColumns([], ['a'])).toEqual([]);
    expect(columnList([{ A: 1, b: 2 }])).toBe('a, b');
  });

  it('shows values for messages and drops undefined properties', () => {
    expect([show(undefined), show(null), show(''), show('x'), show(1), show(2n)]).toEqual([
      'empty',
      'empty',
      'empty',
      '"x"',
      '1',
      '"2"',
    ]);
    expect(definedOnly({ a: 1, b: undefined, c: null })).toEqual({ a: 1, c: null });
    expect(Object.keys(definedOnly({ a: 1, b: undefined }))).toEqual(['a']);
  });
});
