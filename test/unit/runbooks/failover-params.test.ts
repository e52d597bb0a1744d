import { logDirOf } from '../../../src/runbooks/failover-test/failover-facts';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { DEFAULT_WAIT_S, type FailoverParams } from '../../../src/runbooks/failover-test/failover-params';
import { failoverSubject, failoverTestRunbook } from '../../../src/runbooks/failover-test/failover-runbook';
import { resolveInput } from '../../../src/runbooks/prepare-run';
import { cliUsage } from '../../../src/runbooks/runbook';
import { writeupFailoverCluster } from './failover-facts-fixtures';

// `/kingbase failover-test <cluster> [target=<node>] [phase=restore] [wait=<seconds>]`: what reaches
// the planner, and what is refused before any connection is made.

let clusters: Record<string, ClusterConfig>;

beforeAll(async () => {
  clusters = { ESHA: await writeupFailoverCluster() };
});

const USAGE = cliUsage(failoverTestRunbook);
const parse = (input: Record<string, unknown>) =>
  resolveInput(failoverTestRunbook, { cluster: 'ESHA', ...input }, { clusters, reports: [] });
const params = (input: Record<string, unknown>): FailoverParams => {
  const r = parse(input);
  if (!r.ok) throw new Error(r.failure.message);
  return r.params as FailoverParams;
};
const failure = (input: Record<string, unknown>) => {
  const r = parse(input);
  if (r.ok) throw new Error(`accepted ${JSON.stringify(input).slice(0, 80)}`);
  return r.failure;
};

describe('failover-test input', () => {
  it('defaults to a drill of the newest node (chosen from the facts), waiting 60 s', () => {
    const p = params({});
    expect(p).toEqual({ cluster: clusters.ESHA, phase: 'drill', waitMs: DEFAULT_WAIT_S * 1000 });
    expect(p.waitMs).toBe(60_000);
    expect('target' in p).toBe(false);
    expect(failoverSubject(p)).toBe('failover test of ESHA: the newest node expected to take over');
  });

  it('takes a target, a phase and a wait', () => {
    expect(params({ target: 'srv129', wait: 120 })).toMatchObject({
      phase: 'drill',
      target: 'srv129',
      waitMs: 120_000,
    });
    const r = params({ phase: 'restore' });
    expect(r).toMatchObject({ phase: 'restore', waitMs: 60_000 });
    expect(failoverSubject(r)).toBe('restore roles in ESHA after a failover test');
  });

  it('refuses wait= with phase=restore: only the drill waits for a promotion', () => {
    expect(failure({ phase: 'restore', wait: 60 })).toEqual({
      code: 'bad-input',
      message: 'wait: only the drill waits for a promotion',
      hint: 'leave wait= out of a restore',
    });
    expect(failure({ phase: 'restore', wait: 5, target: 'srv159' }).code).toBe('bad-input');
  });

  it('bounds wait to 5..900 whole seconds', () => {
    expect(params({ wait: 5 }).waitMs).toBe(5_000);
    expect(params({ wait: 900 }).waitMs).toBe(900_000);
    expect(params({ phase: 'drill', wait: 30 }).waitMs).toBe(30_000);
    for (const wait of [4, 0, -1, 901, 3600, 5.5, Number.NaN, Infinity, '60', null]) {
      const f = failure({ wait });
      expect(f.code).toBe('bad-input');
      expect(f.message).toMatch(/^wait: /);
      expect(f.hint).toBe(USAGE);
    }
  });

  it.each([
    ['upper case', 'SRV159'],
    ['a shell command', 'srv159;reboot'],
    ['a command substitution', '$(reboot)'],
    ['an option', '-oProxyCommand=x'],
    ['a dot', 'srv.159'],
    ['a space', 'srv159 '],
    ['a newline', 'srv159\nx'],
    ['a homoglyph', 'srv1б9'],
    ['an empty name', ''],
    ['59 characters', 'a'.repeat(59)],
  ])('refuses a target with %s', (_, target) => {
    expect(failure({ target })).toEqual({
      code: 'bad-input',
      message:
        'target: node names may use only a-z, 0-9 and _ (at most 58): they become application_name and slot names',
      hint: USAGE,
    });
  });

  it('accepts a target of 58 plain characters', () => {
    expect(params({ target: 'a'.repeat(58) }).target).toBe('a'.repeat(58));
  });

  it('refuses an unknown phase, an unknown key, and a number as the target', () => {
    expect(failure({ phase: 'promote' }).message).toMatch(/^phase: /);
    expect(failure({ phase: 'RESTORE' }).message).toMatch(/^phase: /);
    expect(failure({ force: true }).code).toBe('bad-input');
    expect(failure({ target: 159 }).message).toMatch(/^target: /);
  });

  it('refuses an unknown cluster with the known ones', () => {
    const r = resolveInput(failoverTestRunbook, { cluster: 'NOPE' }, { clusters, reports: [] });
    expect(r.ok ? null : r.failure).toEqual({
      code: 'unknown-cluster',
      message: 'no cluster named "NOPE"',
      hint: 'known clusters: ESHA',
    });
  });
});

describe('logDirOf', () => {
  it("finds the server's own log directory, relative ones inside the data directory", () => {
    expect(logDirOf("logging_collector = on\nlog_directory = 'sys_log'\n", '/d/data')).toBe(
      '/d/data/sys_log',
    );
    expect(logDirOf("log_directory = '/var/log/kb'  # here\n", '/d/data')).toBe('/var/log/kb');
    expect(logDirOf("#log_directory = 'log'\n", '/d/data')).toBeNull();
  });
});
