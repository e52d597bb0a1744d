import { sealPlan, type SealedPlan, type Step } from '../../../src/core/plan';
import { planDetailMessages } from '../../../src/render/plan-detail';
import { expectWithinLimits, shownText, writeupFixture } from './render-fixture';

// The plan in the thread shows what a failover drill adds: a check on another host than the step's,
// what a verdict measures and counts, and that the plan rolls back on its own when a step fails.

let plan: SealedPlan;
beforeAll(async () => {
  ({ plan } = await writeupFixture());
});

const drillStep: Step = {
  id: 'stop-primary',
  title: 'Stop the primary',
  target: 'srv127',
  action: { kind: 'ssh', argv: ['pg_ctl', 'stop'] },
  timeoutMs: 60_000,
  mutates: true,
  undo: [
    {
      kind: 'verify',
      probe: { kind: 'sql', sql: 'select pg_is_in_recovery() as r', params: [] },
      expect: { kind: 'column-equals', column: 'r', value: true },
      on: 'srv129',
    },
    { kind: 'ssh', argv: ['pg_ctl', 'start'] },
  ],
  effect: { probe: { kind: 'ssh', argv: ['pg_ctl', 'status'] }, present: { kind: 'exit-code', equals: 3 } },
};

const verdictStep: Step = {
  id: 'drill-verdict',
  title: 'Verdict',
  target: 'srv127',
  action: {
    kind: 'verdict',
    checks: [
      {
        kind: 'lost-rows',
        name: 'acknowledged rows kept',
        target: 'srv129',
        countSql: 'select count(*) as n from drill',
        acknowledged: 100,
        waitMs: 10_000,
      },
    ],
  },
  timeoutMs: 60_000,
  mutates: false,
  undo: null,
};

function drill(rollbackOnFailure: boolean): SealedPlan {
  const { hash: _hash, rollbackOnFailure: _r, ...rest } = plan;
  return sealPlan({
    ...rest,
    ...(rollbackOnFailure && { rollbackOnFailure: true as const }),
    steps: [drillStep, verdictStep],
  });
}

describe('planDetailMessages of a drill', () => {
  it('says in the intro that the plan rolls back on failure, only when it does', () => {
    const [first] = planDetailMessages(drill(true));
    expect(shownText(first!)).toContain(
      "*On failure:* rolls back automatically on failure (newest step first), even where the cluster's settings leave that to an operator",
    );
    expect(planDetailMessages(drill(false)).map(shownText).join('\n')).not.toContain('On failure');
  });

  it('shows the host an undo checks before it starts the old primary again, and the lost-rows check', () => {
    const messages = planDetailMessages(drill(true));
    messages.forEach(expectWithinLimits);
    const all = messages.map(shownText).join('\n');
    expect(all).toContain('- check r = true on srv129:');
    expect(all).toContain(
      '1. acknowledged rows kept on srv129: how many of the 100 acknowledged rows are lost (waits up to 10s)',
    );
  });
});
