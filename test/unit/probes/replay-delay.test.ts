import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import { parseReplayDelay, replayDelaySql } from '../../../src/probes/replay-delay';

describe('replay delay', () => {
  it("asks the standby for its receive and replay positions and its last replay's age, in the dialect's names", () => {
    expect(replayDelaySql(pg).sql).toBe(
      'select pg_last_wal_receive_lsn() as received, pg_last_wal_replay_lsn() as replayed, ' +
        'extract(epoch from (now() - pg_last_xact_replay_timestamp())) as replay_age_seconds',
    );
    expect(replayDelaySql(kb).sql).toBe(
      'select sys_last_xlog_receive_location() as received, sys_last_xlog_replay_location() as replayed, ' +
        'extract(epoch from (now() - sys_last_xact_replay_timestamp())) as replay_age_seconds',
    );
  });

  it('is 0 when it has replayed all it received, however old the last transaction (an idle primary)', () => {
    const idle = { received: '0/3000148', replayed: '0/3000148', replay_age_seconds: '86400.5' };
    expect(parseReplayDelay([idle])).toEqual({ ok: true, value: 0 });
    // Same position, printed with other padding or case (V8R3 text, say).
    expect(parseReplayDelay([{ ...idle, replayed: '0/03000148' }])).toEqual({ ok: true, value: 0 });
  });

  it('is the age of the last replayed transaction while replay is behind what was received', () => {
    const behind = { received: '0/5000000', replayed: '0/3000148', replay_age_seconds: '12.25' };
    expect(parseReplayDelay([behind])).toEqual({ ok: true, value: 12.25 });
    // No WAL receiver (fed from the archive): the age still tells.
    expect(parseReplayDelay([{ ...behind, received: null }])).toEqual({ ok: true, value: 12.25 });
    // The primary's clock ahead of the standby's: not a negative delay.
    expect(parseReplayDelay([{ ...behind, replay_age_seconds: -0.4 }])).toEqual({ ok: true, value: 0 });
  });

  it('is unknown, with why, when it is behind and has replayed no transaction yet', () => {
    expect(
      parseReplayDelay([{ received: '0/5000000', replayed: '0/3000148', replay_age_seconds: null }]),
    ).toEqual({
      ok: false,
      reason:
        'it has replayed no transaction since it started and has not replayed all it received ' +
        '(received 0/5000000, replayed 0/3000148)',
    });
  });

  it('refuses what it cannot read', () => {
    expect(parseReplayDelay([])).toEqual({ ok: false, reason: 'the replay delay query returned no row' });
    expect(parseReplayDelay([{ received: 'x', replayed: '0/1', replay_age_seconds: 1 }])).toEqual({
      ok: false,
      reason: 'received is "x", not a WAL position',
    });
    expect(parseReplayDelay([{ received: '0/2', replayed: '0/1', replay_age_seconds: 'soon' }])).toEqual({
      ok: false,
      reason: 'replay_age_seconds is "soon"',
    });
  });
});
