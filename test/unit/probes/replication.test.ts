import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import {
  hasReplayLag,
  parseReplayLag,
  parseReplication,
  replayLagSql,
  replicationSql,
} from '../../../src/probes/replication';
import { fixtureRows, upperCased, valueOf } from './fixture';

describe('replication', () => {
  it("selects the dialect's view", () => {
    expect(replicationSql(kb)).toEqual({
      kind: 'sql',
      sql: 'select * from sys_stat_replication',
      params: [],
    });
    expect(replicationSql(pg).sql).toBe('select * from pg_stat_replication');
  });

  it("parses the write-up's first sys_stat_replication (one standby, wrapping repaired)", () => {
    expect(valueOf(parseReplication(fixtureRows('writeup/replication-one-standby.txt'), kb))).toEqual([
      {
        pid: 16851,
        applicationName: 'srv129',
        clientAddr: '192.168.4.129',
        state: 'streaming',
        sent: '0/180000D0',
        write: '0/180000D0',
        flush: '0/180000D0',
        replay: '0/180000D0',
        syncState: 'async',
      },
    ]);
  });

  it('parses both standbys once srv159 joined', () => {
    const entries = valueOf(parseReplication(fixtureRows('writeup/replication-two-standbys.txt'), kb));
    expect(entries.map((e) => [e.pid, e.applicationName, e.clientAddr, e.state, e.sent, e.replay])).toEqual([
      [16851, 'srv129', '192.168.4.129', 'streaming', '0/ED000000', '0/ECFFF418'],
      [12202, 'srv159', '192.168.4.159', 'streaming', '0/ED000000', '0/ECFFF418'],
    ]);
  });

  it('parses the last one (srv129 stopped), with upper-cased headers too', () => {
    const rows = fixtureRows('writeup/replication-after-standby-stopped.txt');
    const expected = [
      {
        pid: 3387,
        applicationName: 'srv159',
        clientAddr: '192.168.4.159',
        state: 'streaming',
        sent: '1/5603A980',
        write: '1/5603A980',
        flush: '1/5603A980',
        replay: '1/5603A8D8',
        syncState: 'async',
      },
    ];
    expect(valueOf(parseReplication(rows, kb))).toEqual(expected);
    expect(valueOf(parseReplication(upperCased(rows), kb))).toEqual(expected);
  });

  it('reads *_lsn columns for PostgreSQL (psql output of PostgreSQL 15, Unix-socket standby)', () => {
    expect(valueOf(parseReplication(fixtureRows('pg15/replication.txt'), pg))).toEqual([
      {
        pid: 17135,
        applicationName: 'srv13',
        clientAddr: null,
        state: 'streaming',
        sent: '0/40001C0',
        write: '0/40001C0',
        flush: '0/40001C0',
        replay: '0/40001C0',
        syncState: 'async',
      },
    ]);
  });

  it('reads typed node-postgres rows, where a standby still starting has no positions yet', () => {
    const row = {
      pid: 4242,
      usename: 'postgres',
      application_name: 'srv13',
      client_addr: '127.0.0.1',
      state: 'startup',
      sent_lsn: null,
      write_lsn: null,
      flush_lsn: null,
      replay_lsn: null,
      sync_state: 'async',
    };
    expect(valueOf(parseReplication([row], pg))).toEqual([
      {
        pid: 4242,
        applicationName: 'srv13',
        clientAddr: '127.0.0.1',
        state: 'startup',
        sent: null,
        write: null,
        flush: null,
        replay: null,
        syncState: 'async',
      },
    ]);
  });

  it('gives no entries when no standby is connected', () => {
    expect(parseReplication([], kb)).toEqual({ ok: true, value: [] });
  });

  it("says when the columns are the other dialect's", () => {
    const r = parseReplication(fixtureRows('pg15/replication.txt'), kb);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(
      /^sys_stat_replication has no sent_location, write_location, flush_location, replay_location column .*sent_lsn.*: is the cluster's dialect \(kingbase-v8r3\) right\?$/,
    );
  });

  it('says when a pid is not a number', () => {
    const rows = fixtureRows('writeup/replication-one-standby.txt').map((r) => ({ ...r, pid: 'x' }));
    expect(parseReplication(rows, kb)).toEqual({
      ok: false,
      reason: 'sys_stat_replication row 1: pid is "x"',
    });
  });

  it('tells a server that measures replay_lag (PG 15) from one that does not (V8R3)', () => {
    expect(hasReplayLag(fixtureRows('pg15/replication.txt'))).toBe(true);
    expect(hasReplayLag(upperCased(fixtureRows('pg15/replication.txt')))).toBe(true);
    expect(hasReplayLag(fixtureRows('writeup/replication-two-standbys.txt'))).toBe(false);
    expect(hasReplayLag([])).toBe(false);
  });

  it('reads replay_lag in seconds by walsender pid; null where the server measured nothing lately', () => {
    expect(replayLagSql(pg).sql).toBe(
      'select pid, extract(epoch from replay_lag) as replay_lag_seconds from pg_stat_replication',
    );
    // numeric comes as text from node-postgres, float8 as a number; psql leaves NULL blank.
    const lags = valueOf(
      parseReplayLag([
        { pid: 17135, replay_lag_seconds: '0.112489' },
        { pid: 17136, replay_lag_seconds: 2.5 },
        { pid: '17137', replay_lag_seconds: null },
      ]),
    );
    expect([...lags]).toEqual([
      [17135, 0.112489],
      [17136, 2.5],
      [17137, null],
    ]);
    expect(valueOf(parseReplayLag([])).size).toBe(0);
  });

  it('says what is wrong with a replay lag reading rather than guessing', () => {
    expect(parseReplayLag([{ pid: 1 }])).toEqual({
      ok: false,
      reason: 'the replay lag query has no replay_lag_seconds column',
    });
    expect(parseReplayLag([{ pid: 1, replay_lag_seconds: '00:00:01' }])).toEqual({
      ok: false,
      reason: 'replay lag row 1: replay_lag_seconds is "00:00:01"',
    });
  });
});
