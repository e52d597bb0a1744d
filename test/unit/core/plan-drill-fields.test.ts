import {
  hashPlan,
  sealPlan,
  type Action,
  type Plan,
  type Step,
  type VerdictCheck,
} from '../../../src/core/plan';
import { parsePlan, planProblems } from '../../../src/core/plan-schema';
import { describeAction, renderPlan } from '../../../src/core/render-plan';
import { samplePlan, samplePlanUnsealed } from './sample-plan';

// What a failover drill needs of a plan: a check on another host than the step's (`on`), a probe
// check that measures its wait, a count of lost acknowledged rows, and a rollback the plan demands.

const inRecovery: Action = {
  kind: 'verify',
  probe: { kind: 'sql', sql: 'select pg_is_in_recovery() as r', params: [] },
  expect: { kind: 'column-equals', column: 'r', value: true },
  on: 'srv129',
};

const failoverTime: VerdictCheck = {
  kind: 'probe',
  name: 'the standby took over',
  target: 'srv129',
  probe: { kind: 'sql', sql: 'select pg_is_in_recovery() as r', params: [] },
  expect: { kind: 'column-equals', column: 'r', value: false },
  waitMs: 60_000,
  measure: 'failover time',
};

const lostRows: VerdictCheck = {
  kind: 'lost-rows',
  name: 'acknowledged rows kept',
  target: 'srv129',
  countSql: 'select count(*) as n from drill where id <= 100',
  acknowledged: 100,
  database: 'TEST',
  waitMs: 10_000,
};

/** The drill plan with its verdict's checks replaced. */
const withChecks = (checks: VerdictCheck[]): Plan =>
  drillPlan((steps) =>
    steps.map((s) => (s.id === 'drill-verdict' ? { ...s, action: { kind: 'verdict', checks } } : s)),
  );

/** The sample plan with a drill step appended: an undo that verifies on srv129 first, and a verdict. */
function drillPlan(over: (steps: Step[]) => Step[] = (s) => s): Plan {
  const plan = samplePlanUnsealed();
  const steps: Step[] = [
    {
      id: 'stop-primary',
      title: 'Stop the primary',
      target: 'srv127',
      action: { kind: 'ssh', argv: ['pg_ctl', 'stop'] },
      timeoutMs: 60_000,
      mutates: true,
      undo: [inRecovery, { kind: 'ssh', argv: ['pg_ctl', 'start'] }],
      effect: {
        probe: { kind: 'ssh', argv: ['pg_ctl', 'status'] },
        present: { kind: 'exit-code', equals: 3 },
      },
    },
    {
      id: 'drill-verdict',
      title: 'Verdict',
      target: 'srv127',
      action: { kind: 'verdict', checks: [failoverTime, lostRows] },
      timeoutMs: 120_000,
      mutates: false,
      undo: null,
    },
  ];
  return { ...plan, rollbackOnFailure: true, steps: over([...plan.steps, ...steps]) };
}

const problemsOf = (plan: Plan): string[] => {
  const r = parsePlan(sealPlan(plan));
  return r.ok ? [] : r.problems;
};

describe('drill fields in a plan', () => {
  it('are accepted by parsePlan, also after a JSON round trip', () => {
    const sealed = sealPlan(drillPlan());
    expect(parsePlan(sealed)).toEqual({ ok: true, plan: sealed });
    expect(parsePlan(JSON.parse(JSON.stringify(sealed)))).toMatchObject({ ok: true });
  });

  it('are covered by the hash, and plans made before them still parse', () => {
    const old = samplePlan();
    expect(parsePlan(old)).toMatchObject({ ok: true });
    expect('rollbackOnFailure' in old).toBe(false);
    expect(hashPlan(drillPlan())).not.toBe(hashPlan({ ...drillPlan(), rollbackOnFailure: undefined }));
  });

  it('refuses an `on` that names no target, in a step or in an undo', () => {
    const waitNowhere: Action = {
      kind: 'wait-until',
      probe: { kind: 'ssh', argv: ['true'] },
      until: { kind: 'exit-code', equals: 0 },
      intervalMs: 1000,
      on: 'nowhere',
    };
    const p = problemsOf(
      drillPlan((steps) =>
        steps.map((s) => {
          if (s.id === 'check-data-dir') return { ...s, action: waitNowhere };
          if (s.id === 'stop-primary') return { ...s, undo: [{ ...inRecovery, on: 'srv13' }] };
          return s;
        }),
      ),
    );
    expect(p).toEqual([
      'steps[0] (check-data-dir).action.on: "nowhere" is not one of the targets (srv159, srv127, srv129)',
      expect.stringMatching(
        /^steps\[\d+\] \(stop-primary\)\.undo\[0\]\.on: "srv13" is not one of the targets \(srv159, srv127, srv129\)$/,
      ),
    ]);
  });

  it('refuses a verdict check whose target is not in the plan, and an empty measure', () => {
    expect(problemsOf(withChecks([{ ...failoverTime, measure: '' }]))).toEqual([
      expect.stringMatching(/^steps\[\d+\]\.action\.checks\[0\]\.measure: /),
    ]);
    expect(planProblems(withChecks([failoverTime, { ...lostRows, target: 'srv13' }]))).toEqual([
      expect.stringMatching(
        /\(drill-verdict\)\.action\.checks\[1\]\.target: "srv13" is not one of the targets/,
      ),
    ]);
  });

  it('refuses a negative acknowledged count and a rollbackOnFailure that is not true', () => {
    expect(problemsOf(withChecks([{ ...lostRows, acknowledged: -1 }]))).toEqual([
      expect.stringMatching(/\.action\.checks\[0\]\.acknowledged: /),
    ]);
    const off = { ...drillPlan(), rollbackOnFailure: false } as unknown as Plan;
    expect(problemsOf(off)).toEqual([expect.stringMatching(/^rollbackOnFailure: /)]);
  });
});

describe('drill fields as the approvers read them', () => {
  const text = renderPlan(sealPlan(drillPlan()));

  it('says on which host a check runs when it is not the step’s own', () => {
    expect(describeAction(inRecovery)[0]).toBe('check r = true on srv129:');
    expect(describeAction({ ...inRecovery, on: undefined })[0]).toBe('check r = true:');
    expect(
      describeAction({
        kind: 'wait-until',
        probe: inRecovery.probe,
        until: { kind: 'exit-code', equals: 0 },
        intervalMs: 2000,
        on: 'srv129',
      })[0],
    ).toBe('wait until exit code 0 on srv129, checking every 2s:');
    expect(text).toContain('   - check r = true on srv129:');
  });

  it('shows what a probe check measures and what a lost-rows check counts', () => {
    expect(text).toContain(
      '1. the standby took over on srv129: r = false (waits up to 1m); measures failover time',
    );
    expect(text).toContain(
      '2. acknowledged rows kept on srv129: how many of the 100 acknowledged rows are lost (waits up to 10s); a loss is reported, only a count that cannot be read fails',
    );
    expect(text).toContain('count (database TEST): select count(*) as n from drill where id <= 100');
  });

  it('says the plan rolls back on failure, only when it does', () => {
    expect(text).toContain('This plan rolls back automatically on failure');
    expect(renderPlan(samplePlan())).not.toContain('rolls back automatically');
  });
});
