import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import {
  bigIntToLsn,
  currentWalPositionSql,
  lastReplayPositionSql,
  lsnDiff,
  lsnToBigInt,
  parsePosition,
  parseWalDiff,
  parseWalPosition,
  walDiffSql,
  walPositionSql,
} from '../../../src/probes/wal-position';
import { fixtureRows } from './fixture';

describe('WAL position SQL', () => {
  it('uses 9.6-style sys_ functions on V8R3 and *_lsn ones on PostgreSQL', () => {
    expect(walPositionSql(kb).sql).toBe(
      'select sys_is_in_recovery() as in_recovery, case when sys_is_in_recovery() ' +
        'then sys_last_xlog_replay_location() else sys_current_xlog_location() end as position',
    );
    expect(walPositionSql(pg).sql).toBe(
      'select pg_is_in_recovery() as in_recovery, case when pg_is_in_recovery() ' +
        'then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end as position',
    );
    expect(currentWalPositionSql(kb).sql).toBe('select sys_current_xlog_location() as position');
    expect(lastReplayPositionSql(pg).sql).toBe('select pg_last_wal_replay_lsn() as position');
  });

  it('binds the two positions of a difference', () => {
    expect(walDiffSql(kb, '0/ED000000', '0/ECFFF418')).toEqual({
      kind: 'sql',
      sql: 'select sys_xlog_location_diff($1, $2) as bytes',
      params: ['0/ED000000', '0/ECFFF418'],
    });
  });
});

describe('WAL position parsers', () => {
  it('reads role and position (node-postgres and psql text)', () => {
    expect(parseWalPosition([{ in_recovery: false, position: '0/3000BC0' }])).toEqual({
      ok: true,
      value: { inRecovery: false, position: '0/3000BC0' },
    });
    expect(parseWalPosition([{ IN_RECOVERY: 't', POSITION: '' }])).toEqual({
      ok: true,
      value: { inRecovery: true, position: null },
    });
  });

  it('refuses what is not a position or a boolean', () => {
    expect(parseWalPosition([{ in_recovery: 'f', position: 'ED000000' }])).toEqual({
      ok: false,
      reason: '"ED000000" is not a WAL position (X/Y)',
    });
    expect(parseWalPosition([{ in_recovery: 'x', position: '0/1' }])).toEqual({
      ok: false,
      reason: 'in_recovery is "x", not a boolean',
    });
    expect(parseWalPosition([])).toEqual({ ok: false, reason: 'the WAL position query returned no row' });
    expect(parsePosition([])).toMatchObject({ ok: false });
  });

  it('reads a single position, null on a primary asked for its replay position', () => {
    expect(parsePosition([{ position: '1/5603A980' }])).toEqual({ ok: true, value: '1/5603A980' });
    expect(parsePosition([{ position: null }])).toEqual({ ok: true, value: null });
  });

  it('reads a difference (numeric comes as text from node-postgres)', () => {
    expect(parseWalDiff([{ bytes: '-352321648' }])).toEqual({ ok: true, value: -352321648 });
    expect(parseWalDiff([{ BYTES: '15336' }])).toEqual({ ok: true, value: 15336 });
    expect(parseWalDiff([{ bytes: null }])).toEqual({ ok: true, value: null });
    expect(parseWalDiff([{ bytes: 'x' }])).toEqual({ ok: false, reason: 'bytes is "x", not a number' });
  });
});

describe('LSN arithmetic', () => {
  it('turns X/Y into a byte position', () => {
    expect(lsnToBigInt('0/180000D0')).toBe(0x180000d0n);
    expect(lsnToBigInt('1/5603A980')).toBe((1n << 32n) + 0x5603a980n);
    expect(lsnToBigInt('0/0')).toBe(0n);
    expect(lsnToBigInt('FFFFFFFF/FFFFFFFF')).toBe((1n << 64n) - 1n);
    expect(lsnToBigInt(' 0/ed000000 ')).toBe(0xed000000n);
  });

  it('refuses what is not one', () => {
    for (const bad of ['', '0', '0/', '/1', '0/180000D0/1', 'G/1', '100000000/0', '0/1 2']) {
      expect(lsnToBigInt(bad)).toBeNull();
    }
  });

  it('prints positions the way the server does', () => {
    expect(bigIntToLsn(0x180000d0n)).toBe('0/180000D0');
    expect(bigIntToLsn((1n << 32n) + 0x5603a980n)).toBe('1/5603A980');
    expect(bigIntToLsn(lsnToBigInt('0/ECFFF418') as bigint)).toBe('0/ECFFF418');
  });

  it("measures the write-up's replay lag: srv159 replayed 3048 bytes less than was sent", () => {
    const [, srv159] = fixtureRows('writeup/replication-two-standbys.txt');
    expect(lsnDiff(srv159?.sent_location ?? '', srv159?.replay_location ?? '')).toBe(3048n);
    expect(lsnDiff('1/5603A8D8', '1/5603A980')).toBe(-168n);
    expect(lsnDiff('1/0', 'x')).toBeNull();
  });
});
