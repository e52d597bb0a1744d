import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import { databaseSizeSql, parseDatabaseSize } from '../../../src/probes/database-size';

describe('database size', () => {
  it('measures the connected database, or a named one bound as a parameter', () => {
    expect(databaseSizeSql(pg)).toEqual({
      kind: 'sql',
      sql: 'select pg_database_size(current_database()) as bytes',
      params: [],
    });
    expect(databaseSizeSql(kb, 'TEST')).toEqual({
      kind: 'sql',
      sql: 'select sys_database_size($1) as bytes',
      params: ['TEST'],
    });
  });

  it('reads bytes (bigint comes as text from node-postgres)', () => {
    expect(parseDatabaseSize([{ bytes: '7634279' }])).toEqual({ ok: true, value: 7634279 });
    expect(parseDatabaseSize([{ BYTES: 2129494016 }])).toEqual({ ok: true, value: 2129494016 });
  });

  it('says what is wrong', () => {
    expect(parseDatabaseSize([])).toEqual({ ok: false, reason: 'the database size query returned no row' });
    expect(parseDatabaseSize([{ bytes: null }])).toEqual({
      ok: false,
      reason: 'bytes is empty, not a number',
    });
    expect(parseDatabaseSize([{ bytes: '1.5' }])).toEqual({
      ok: false,
      reason: 'bytes is "1.5", not a number',
    });
  });
});
