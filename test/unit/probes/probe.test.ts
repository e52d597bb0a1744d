import type { Observation, Probe } from '../../../src/core/plan';
import type { ExecResult } from '../../../src/ports/remote-shell';
import { postgresqlDialect } from '../../../src/dialects/postgresql';
import { listenersProbe } from '../../../src/probes/host-probes';
import { argvProbe, failed, parsed, sqlProbe, type CommandOutput } from '../../../src/probes/probe';
import { slotsSql } from '../../../src/probes/slots';

describe('probe values', () => {
  it('go into a plan as they are (the types are checked by tsc; the values here)', () => {
    const probes: Probe[] = [slotsSql(postgresqlDialect), listenersProbe];
    expect(JSON.parse(JSON.stringify(probes))).toEqual(probes);
    const fromExec = (r: ExecResult): CommandOutput => r;
    const fromObservation = (o: Extract<Observation, { kind: 'ssh' }>): CommandOutput => o;
    expect(typeof fromExec).toBe('function');
    expect(typeof fromObservation).toBe('function');
  });

  it('are built by small constructors', () => {
    expect(sqlProbe('select 1')).toEqual({ kind: 'sql', sql: 'select 1', params: [] });
    expect(sqlProbe('select $1', ['x'])).toEqual({ kind: 'sql', sql: 'select $1', params: ['x'] });
    expect(argvProbe('ls', '-A1')).toEqual({ kind: 'ssh', argv: ['ls', '-A1'] });
    expect(parsed(1)).toEqual({ ok: true, value: 1 });
    expect(failed('why')).toEqual({ ok: false, reason: 'why' });
  });
});
