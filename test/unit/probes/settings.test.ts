import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import { parseSettings, PREFLIGHT_SETTINGS, settingsSql } from '../../../src/probes/settings';
import { fixtureRows, upperCased, valueOf } from './fixture';

describe('settings', () => {
  it("asks the dialect's settings view for the names, bound as one array parameter", () => {
    expect(settingsSql(pg)).toEqual({
      kind: 'sql',
      sql: 'select name, setting, unit, vartype from pg_settings where name = any($1)',
      params: [[...PREFLIGHT_SETTINGS]],
    });
    expect(settingsSql(kb, ['port']).sql).toBe(
      'select name, setting, unit, vartype from sys_settings where name = any($1)',
    );
    expect(settingsSql(kb, ['port']).params).toEqual([['port']]);
  });

  it('asks for what the preflight compares', () => {
    expect(PREFLIGHT_SETTINGS).toEqual([
      'max_wal_senders',
      'max_replication_slots',
      'wal_level',
      'max_connections',
      'hot_standby',
      'port',
      'listen_addresses',
      'data_directory',
    ]);
  });

  it('types values by vartype (PostgreSQL 15 psql output)', () => {
    expect(valueOf(parseSettings(fixtureRows('pg15/settings.txt')))).toEqual({
      data_directory: { value: '/tmp/pgx/primary', unit: null },
      hot_standby: { value: true, unit: null },
      listen_addresses: { value: '', unit: null },
      max_connections: { value: 100, unit: null },
      max_replication_slots: { value: 5, unit: null },
      max_wal_senders: { value: 5, unit: null },
      port: { value: 55432, unit: null },
      shared_buffers: { value: 16384, unit: '8kB' },
      wal_level: { value: 'replica', unit: null },
    });
  });

  it('reads upper-cased headers and names', () => {
    const rows = upperCased([{ name: 'MAX_WAL_SENDERS', setting: '4', unit: null, vartype: 'integer' }]);
    expect(valueOf(parseSettings(rows))).toEqual({ max_wal_senders: { value: 4, unit: null } });
  });

  it('makes whole numbers numbers when there is no vartype column', () => {
    const rows = [
      { name: 'max_wal_senders', setting: '4' },
      { name: 'wal_level', setting: 'replica' },
      { name: 'hot_standby', setting: 'on' },
    ];
    expect(valueOf(parseSettings(rows))).toEqual({
      max_wal_senders: { value: 4, unit: null },
      wal_level: { value: 'replica', unit: null },
      hot_standby: { value: 'on', unit: null },
    });
  });

  it('says what is wrong', () => {
    expect(parseSettings([{ setting: '1' }])).toEqual({
      ok: false,
      reason: 'the settings have no name column (columns: setting)',
    });
    expect(parseSettings([{ name: 'port', setting: 'x', vartype: 'integer' }])).toEqual({
      ok: false,
      reason: 'setting port (integer) has the value "x"',
    });
    expect(parseSettings([])).toEqual({ ok: true, value: {} });
  });
});
