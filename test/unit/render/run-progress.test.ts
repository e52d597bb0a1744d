import type { SealedPlan } from '../../../src/core/plan';
import { RUN_STATES } from '../../../src/core/run-state';
import type { CheckResult } from '../../../src/core/run';
import { registerSecret } from '../../../src/log/scrub-secrets';
import {
  elapsed,
  failureCard,
  progressBar,
  statusLine,
  stepFinishedReply,
  stepStartedReply,
  verdictCard,
  verdictChecks,
  type StepFinishedEvent,
} from '../../../src/render/run-progress';
import {
  expectGolden,
  expectWithinLimits,
  NOW,
  runOf,
  shownText,
  stepIndex,
  writeupFixture,
} from './render-fixture';

let plan: SealedPlan;
beforeAll(async () => {
  ({ plan } = await writeupFixture());
});

const finished = (index: number, over: Partial<StepFinishedEvent> = {}): StepFinishedEvent => ({
  type: 'step-finished',
  index,
  stepId: plan.steps[index]!.id,
  phase: 'do',
  durationMs: 12_345,
  outcome: { ok: true },
  ...over,
});

/** The write-up's verdict, as run-verdict reports it: every check by name, with its wait. */
const CHECKS: CheckResult[] = [
  { name: 'srv159 is streaming', ok: true, waitedMs: 0, detail: 'as expected' },
  { name: 'srv159 replayed up to the primary', ok: true, waitedMs: 412, detail: 'replayed up to 0/5000140' },
  {
    name: 'a row written on the primary is read on the new node',
    ok: true,
    waitedMs: 35,
    detail: 'as expected',
  },
  { name: "srv127's pool lists srv159 up as a standby", ok: true, waitedMs: 1208, detail: 'as expected' },
  { name: "srv129's pool lists srv159 up as a standby", ok: true, waitedMs: 0, detail: 'as expected' },
];

describe('progressBar and elapsed', () => {
  it('draws 20 cells and the percentage, clamped', () => {
    expect(progressBar(42)).toBe('████████░░░░░░░░░░░░ 42%');
    expect(progressBar(0)).toBe('░░░░░░░░░░░░░░░░░░░░ 0%');
    expect(progressBar(100)).toBe('████████████████████ 100%');
    expect(progressBar(250)).toBe('████████████████████ 100%');
    expect(progressBar(Number.NaN)).toBe('░░░░░░░░░░░░░░░░░░░░ 0%');
    expect(progressBar(50, 4)).toBe('██░░ 50%');
  });

  it('reads durations as people do', () => {
    expect([elapsed(850), elapsed(12_345), elapsed(240_000)]).toEqual(['850ms', '12.3s', '4m']);
  });
});

describe('statusLine', () => {
  const bb = (): number => stepIndex(plan, 'basebackup');
  it('says where a running run is, with its progress', () => {
    const run = runOf(plan, 'running', { nextStep: bb() });
    expect(statusLine(run, NOW, { percent: 42 })).toBe(
      'running step 11/32: copy srv127 to srv159 (base backup, WAL streamed) — 42%',
    );
    expect(statusLine({ ...run, cancelRequested: true }, NOW)).toBe(
      'running step 11/32: copy srv127 to srv159 (base backup, WAL streamed) · cancelling…',
    );
  });

  it('has a line for every state (golden)', () => {
    const lines = Object.fromEntries(
      RUN_STATES.map((s) => [
        s,
        statusLine(
          runOf(plan, s, {
            nextStep:
              s === 'succeeded'
                ? plan.steps.length
                : ['awaiting_approval', 'approved', 'rejected', 'expired'].includes(s)
                  ? 0
                  : bb(),
            undoNext: s === 'rolling_back' || s === 'rollback_failed' ? stepIndex(plan, 'datadir') : null,
          }),
          NOW,
        ),
      ]),
    );
    expectGolden('status-lines', lines);
    expect(lines.awaiting_approval).toBe('awaiting approval · expires in 3h42m');
    expect(statusLine(runOf(plan, 'awaiting_approval'), new Date('2020-10-23T17:00:00Z'))).toBe(
      'awaiting approval · past its deadline',
    );
    expect(statusLine(runOf(plan, 'cancelled', { nextStep: 0 }), NOW)).toBe(
      'cancelled · nothing was changed',
    );
  });
});

describe('step replies', () => {
  it('announces a step with its target and first action, and an undo with its own (golden)', () => {
    const i = stepIndex(plan, 'basebackup');
    const started = stepStartedReply(runOf(plan, 'running', { nextStep: i }), i, 'do');
    const undo = stepStartedReply(runOf(plan, 'rolling_back', { undoNext: i }), i, 'undo');
    expectGolden('step-started', { do: started, undo });
    [started, undo].forEach(expectWithinLimits);
    expect(started.text).toBe('Starting step 11/32: copy srv127 to srv159 (base backup, WAL streamed)');
    expect(shownText(undo)).toMatch(
      /kbops:remove-owned \S+-basebackup\.made \/home\/kingbase\/cluster\/ESHA\/db\/data \S+ contents/,
    );
  });

  it('reports a finished step with its duration (golden)', () => {
    const i = stepIndex(plan, 'basebackup');
    const m = stepFinishedReply(runOf(plan, 'running', { nextStep: i + 1 }), finished(i));
    expectGolden('step-finished-ok', m);
    expect(m.text).toBe('Step 11/32 done in 12.3s: copy srv127 to srv159 (base backup, WAL streamed)');
  });

  it('reports a failed step with its message, hint and output tail, scrubbed (golden)', () => {
    registerSecret('Zq7-distinctive-pw');
    const i = stepIndex(plan, 'start');
    const m = stepFinishedReply(
      runOf(plan, 'running', { nextStep: i }),
      finished(i, {
        durationMs: 3100,
        outcome: {
          ok: false,
          kind: 'failure',
          failure: {
            code: 'exit-code',
            message: 'sys_ctl exited with 1: could not bind IPv4 address "0.0.0.0": Address already in use',
            hint: 'see the output below; something else listens on 54321?',
          },
          detail: {
            exitCode: 1,
            stdout: '',
            stderr: [
              'waiting for server to start....',
              'FATAL:  could not create lock file "/tmp/.s.KINGBASE.54321.lock": File exists',
              'connection: host=192.168.4.127 password=Zq7-distinctive-pw <@U_BOSS> & more',
              ' stopped waiting',
            ].join('\n'),
          },
        },
      }),
    );
    expectGolden('step-finished-failed', m);
    expectWithinLimits(m);
    const text = shownText(m);
    expect(text).not.toContain('Zq7-distinctive-pw');
    expect(text).toContain('&lt;@U_BOSS&gt; &amp; more');
    expect(text).toContain(':bulb: see the output below');
  });

  it('says "hit an error" for a fault of kbops, and tells an undo from a step', () => {
    const m = stepFinishedReply(
      runOf(plan, 'rolling_back'),
      finished(3, {
        phase: 'undo',
        outcome: { ok: false, kind: 'error', failure: { code: 'ssh', message: 'connection reset' } },
      }),
    );
    expect(m.text).toBe('Undo of step 4/32 hit an error: connection reset');
  });
});

describe('verdict', () => {
  it("reads the checks out of the verdict step's outcome", () => {
    expect(verdictChecks({ ok: true, detail: { checks: CHECKS as never } })).toEqual(CHECKS);
    expect(verdictChecks({ ok: true, detail: { checks: [{ name: 'x' }, ...(CHECKS as never[])] } })).toEqual(
      CHECKS,
    );
    expect(verdictChecks({ ok: true })).toBeNull();
    expect(verdictChecks({ ok: true, detail: ['x'] })).toBeNull();
  });

  it('shows every check passed with what it waited (golden)', () => {
    const m = verdictCard(runOf(plan, 'succeeded', { nextStep: plan.steps.length }), CHECKS);
    expectGolden('verdict-passed', m);
    expectWithinLimits(m);
    expect(m.text).toBe('Verdict for add srv159 (192.168.4.159) to ESHA: passed, 5 of 5 checks');
    expect(shownText(m)).toContain('_(waited 412 ms)_');
  });

  it('shows a failed check as FAIL with its detail (golden)', () => {
    const checks = CHECKS.map((c, i) =>
      i === 3
        ? { ...c, ok: false, waitedMs: 60_000, detail: 'no row with hostname = 192.168.4.159, status = up' }
        : c,
    );
    const m = verdictCard(runOf(plan, 'failed', { nextStep: stepIndex(plan, 'verdict') }), checks);
    expectGolden('verdict-failed', m);
    expect(m.text).toBe('Verdict for add srv159 (192.168.4.159) to ESHA: FAILED, 1 of 5 checks failed');
    expect(shownText(m)).toContain(":x: *FAIL* · *srv127's pool lists srv159 up as a standby*");
  });
});

describe('failureCard', () => {
  it('says where and why the run stopped, what stays changed, with Roll back and Retry (golden)', () => {
    const run = runOf(plan, 'failed', { nextStep: stepIndex(plan, 'start') });
    const m = failureCard(run, {
      code: 'exit-code',
      message: 'sys_ctl exited with 1',
      hint: 'read the start log in the step reply above',
    });
    expectGolden('failure-card', m);
    expectWithinLimits(m);
    const ids = m.blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => e.action_id) : []));
    expect(ids).toEqual(['run.rollback', 'run.retry']);
    // The 15 steps before `start` that change something, the two hba reloads included.
    const changed = plan.steps.slice(0, stepIndex(plan, 'start')).filter((s) => s.mutates).length;
    expect(changed).toBe(15);
    expect(shownText(m)).toContain('15 completed steps changed the cluster');
  });

  it('offers Roll back and Retry before the run is marked failed, and Roll back again after a failed undo', () => {
    const f = { code: 'x', message: 'y' };
    const ids = (m: ReturnType<typeof failureCard>) =>
      m.blocks.flatMap((b) => (b.type === 'actions' ? b.elements.map((e) => e.action_id) : []));
    expect(ids(failureCard(runOf(plan, 'running', { nextStep: 5 }), f))).toEqual([
      'run.rollback',
      'run.retry',
    ]);
    expect(ids(failureCard(runOf(plan, 'rollback_failed', { nextStep: 9, undoNext: 7 }), f))).toEqual([
      'run.rollback',
    ]);
    expect(failureCard(runOf(plan, 'rollback_failed', { nextStep: 9, undoNext: 7 }), f).text).toBe(
      'add srv159 (192.168.4.159) to ESHA failed at the undo of step 8/32: y',
    );
  });
});
