import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import { parseSlots, slotsSql } from '../../../src/probes/slots';
import { fixtureRows, upperCased, valueOf } from './fixture';

describe('replication slots', () => {
  it('measures retained WAL from the replay position on a standby, the current one on a primary', () => {
    expect(slotsSql(kb)).toEqual({
      kind: 'sql',
      sql:
        'select slot_name, slot_type, active, restart_lsn, sys_xlog_location_diff(case when sys_is_in_recovery() ' +
        'then sys_last_xlog_replay_location() else sys_current_xlog_location() end, restart_lsn) as retained_bytes ' +
        'from sys_replication_slots order by slot_name',
      params: [],
    });
    expect(slotsSql(pg).sql).toBe(
      'select slot_name, slot_type, active, restart_lsn, pg_wal_lsn_diff(case when pg_is_in_recovery() ' +
        'then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end, restart_lsn) as retained_bytes ' +
        'from pg_replication_slots order by slot_name',
    );
  });

  it("parses the write-up's select * (unused slots: no restart_lsn, nothing retained)", () => {
    expect(valueOf(parseSlots(fixtureRows('writeup/slots-before.txt')))).toEqual([
      { name: 'slot_srv127', type: 'physical', active: false, restartLsn: null, retainedBytes: null },
      { name: 'slot_srv129', type: 'physical', active: false, restartLsn: null, retainedBytes: null },
    ]);
  });

  it('parses the list after slot_srv159 was made, misaligned row and upper-cased headers included', () => {
    const rows = fixtureRows('writeup/slots-after.txt');
    const names = (r: ReturnType<typeof parseSlots>) => valueOf(r).map((s) => [s.name, s.active]);
    const expected = [
      ['slot_srv127', false],
      ['slot_srv129', false],
      ['slot_srv159', false],
    ];
    expect(names(parseSlots(rows))).toEqual(expected);
    expect(names(parseSlots(upperCased(rows)))).toEqual(expected);
  });

  it('parses slotsSql output of PostgreSQL 15: an inactive slot holding 32 MB, an active one holding none', () => {
    expect(valueOf(parseSlots(fixtureRows('pg15/slots-primary.txt')))).toEqual([
      { name: 'slot_old', type: 'physical', active: false, restartLsn: '0/2000028', retainedBytes: 33554840 },
      { name: 'slot_srv13', type: 'physical', active: true, restartLsn: '0/40001C0', retainedBytes: 0 },
    ]);
    expect(valueOf(parseSlots(fixtureRows('pg15/slots-standby.txt')))).toEqual([
      { name: 'slot_srv11', type: 'physical', active: false, restartLsn: null, retainedBytes: null },
    ]);
  });

  it('reads node-postgres values: booleans, and numeric as text', () => {
    const row = {
      slot_name: 's',
      slot_type: 'physical',
      active: true,
      restart_lsn: '0/3000BC0',
      retained_bytes: '0',
    };
    expect(valueOf(parseSlots([row]))).toEqual([
      { name: 's', type: 'physical', active: true, restartLsn: '0/3000BC0', retainedBytes: 0 },
    ]);
  });

  it('says what is wrong', () => {
    expect(parseSlots([{ slot_name: 's' }])).toEqual({
      ok: false,
      reason: 'the slot list has no active, restart_lsn column (columns: slot_name)',
    });
    const row = { slot_name: 's', active: 'maybe', restart_lsn: null };
    expect(parseSlots([row])).toEqual({ ok: false, reason: 'slot row 1 (s): active is "maybe"' });
    expect(parseSlots([{ ...row, active: 't', retained_bytes: 'lots' }])).toEqual({
      ok: false,
      reason: 'slot row 1 (s): retained_bytes is "lots"',
    });
  });
});
