import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import { parseRecoveryState, recoveryStateSql } from '../../../src/probes/recovery-state';
import { fixtureRows } from './fixture';

describe('recovery state', () => {
  it("calls the dialect's function", () => {
    expect(recoveryStateSql(kb)).toEqual({
      kind: 'sql',
      sql: 'select sys_is_in_recovery() as in_recovery',
      params: [],
    });
    expect(recoveryStateSql(pg).sql).toBe('select pg_is_in_recovery() as in_recovery');
  });

  it("reads the write-up's promoted node (ksql output, the function's own column name)", () => {
    expect(parseRecoveryState(fixtureRows('writeup/recovery-state-promoted.txt'))).toEqual({
      ok: true,
      value: false,
    });
  });

  it('reads booleans and upper-cased headers', () => {
    expect(parseRecoveryState([{ in_recovery: true }])).toEqual({ ok: true, value: true });
    expect(parseRecoveryState([{ IN_RECOVERY: 'f' }])).toEqual({ ok: true, value: false });
  });

  it('says what is wrong', () => {
    expect(parseRecoveryState([])).toEqual({ ok: false, reason: 'the recovery state query returned no row' });
    expect(parseRecoveryState([{ a: 't', b: 'f' }])).toEqual({
      ok: false,
      reason: 'no in_recovery column (columns: a, b)',
    });
    expect(parseRecoveryState([{ in_recovery: null }])).toEqual({
      ok: false,
      reason: 'in_recovery is empty, not a boolean',
    });
  });
});
