import { systemClock } from '../../../src/adapters/system-clock';
import type { Json } from '../../../src/core/json';
import { sealPlan, type VerdictCheck } from '../../../src/core/plan';
import type { CheckResult } from '../../../src/core/run';
import { runVerdict } from '../../../src/engine/run-verdict';
import { FakeConnector } from './fakes';

// A failover drill's verdict: how long the standby took to take over (measured only when the check
// saw it happen), and how many acknowledged rows the promotion lost (reported, never guessed).

const t = (name: string) => ({ name, host: '192.0.2.1', sshPort: 22, sqlPort: 5432 });
const plan = sealPlan({
  formatVersion: 1,
  runbook: { id: 't', version: 1 },
  cluster: 'c',
  dialect: 'postgresql',
  params: {},
  requester: 'U',
  createdAt: '2026-11-20T00:00:00.000Z',
  targets: { p: t('p'), s: t('s') },
  snapshot: null,
  steps: [],
});

const ctx = (connector: FakeConnector) => ({
  plan,
  target: plan.targets.p!,
  connector,
  clock: systemClock,
  signal: new AbortController().signal,
  onProgress: () => undefined,
});

async function verdict(connector: FakeConnector, checks: VerdictCheck[]) {
  const r = await runVerdict(checks, ctx(connector));
  return { r, checks: (r.detail as unknown as { checks: CheckResult[] }).checks };
}

const promoted = (over: Partial<Extract<VerdictCheck, { kind: 'probe' }>> = {}): VerdictCheck => ({
  kind: 'probe',
  name: 'the standby took over',
  target: 's',
  probe: { kind: 'sql', sql: 'select recovery', params: [] },
  expect: { kind: 'column-equals', column: 'r', value: false },
  waitMs: 3000,
  measure: 'failover time',
  ...over,
});

const lost = (over: Partial<Extract<VerdictCheck, { kind: 'lost-rows' }>> = {}): VerdictCheck => ({
  kind: 'lost-rows',
  name: 'acknowledged rows kept',
  target: 's',
  countSql: 'select count',
  acknowledged: 100,
  waitMs: 0,
  ...over,
});

/** A connector whose standby leaves recovery at its `after`th look. */
function promotingAt(after: number): FakeConnector {
  const c = new FakeConnector();
  let looks = 0;
  c.sqlAnswer = (sql) => (sql === 'select recovery' ? [{ r: ++looks < after }] : []);
  return c;
}

describe('a probe check that measures', () => {
  it('reports how long it waited when it saw the change happen', async () => {
    const { r, checks } = await verdict(promotingAt(3), [promoted()]);
    expect(r.ok).toBe(true);
    expect(checks[0]!.detail).toMatch(/^failover time \d+\.\d s$/);
    const seconds = Number(/(\d+\.\d)/.exec(checks[0]!.detail)![1]);
    expect(seconds).toBeGreaterThanOrEqual(0.3); // two 200 ms polls before the third look
    expect(seconds).toBe(Math.round(checks[0]!.waitedMs / 100) / 10);
  });

  it('says it measured nothing when it passed at the first look (e.g. after a resume)', async () => {
    const { checks } = await verdict(promotingAt(1), [promoted()]);
    expect(checks[0]).toMatchObject({
      ok: true,
      detail: 'failover time not measured: already so when first checked',
    });
  });

  it('keeps the reason when it fails, with how long it waited', async () => {
    const { r, checks } = await verdict(promotingAt(1000), [promoted({ waitMs: 300 })]);
    expect(r.ok).toBe(false);
    expect(checks[0]).toMatchObject({ ok: false, detail: 'column r = true, expected false, after 0.3 s' });
  });

  it('is unchanged without a measure', async () => {
    const { measure: _m, ...plain } = promoted() as Extract<VerdictCheck, { kind: 'probe' }>;
    const { checks } = await verdict(promotingAt(3), [plain]);
    expect(checks[0]!.detail).toBe('as expected');
  });
});

describe('a lost-rows check', () => {
  const counting = (n: Json | (() => Json)): FakeConnector => {
    const c = new FakeConnector();
    c.sqlAnswer = (sql) => (sql === 'select count' ? [{ n: typeof n === 'function' ? n() : n }] : []);
    return c;
  };

  it('passes with nothing lost', async () => {
    const { r, checks } = await verdict(counting('100'), [lost()]);
    expect(r.ok).toBe(true);
    expect(checks[0]).toMatchObject({ ok: true, detail: '0 of 100 acknowledged rows lost' });
  });

  it('passes and says why when rows were lost: it is what the drill measures', async () => {
    const { r, checks } = await verdict(counting(97), [lost()]);
    expect(r.ok).toBe(true);
    expect(checks[0]!.detail).toBe(
      '3 of 100 acknowledged rows lost (the primary acknowledged them before the standby had them: asynchronous replication)',
    );
  });

  it('waits through errors until the count can be read', async () => {
    let looks = 0;
    const c = counting(() => {
      if (++looks < 3) throw new Error('the database system is starting up');
      return '100';
    });
    const { checks } = await verdict(c, [lost({ waitMs: 3000 })]);
    expect(checks[0]).toMatchObject({ ok: true, detail: '0 of 100 acknowledged rows lost' });
    expect(looks).toBe(3);
  });

  it('fails, as unknown, when the count cannot be read: an unknown is never a pass', async () => {
    const down = new FakeConnector();
    down.sqlAnswer = () => {
      throw new Error('connection refused');
    };
    const { r, checks } = await verdict(down, [lost({ waitMs: 300 })]);
    expect(r.ok).toBe(false);
    expect(checks[0]).toMatchObject({ ok: false, detail: 'unknown: connection refused' });
    expect(checks[0]!.waitedMs).toBeGreaterThanOrEqual(300);
    if (!r.ok) expect(r.failure.message).toContain('acknowledged rows kept (unknown: connection refused)');
  });

  it('fails, as unknown, on a count that is not one, or counts more than the acknowledged rows', async () => {
    expect((await verdict(counting(null), [lost()])).checks[0]).toMatchObject({
      ok: false,
      detail: 'unknown: the count gave null, not a number of rows',
    });
    const noColumn = new FakeConnector();
    noColumn.sqlAnswer = () => [{ count: 100 }];
    expect((await verdict(noColumn, [lost()])).checks[0]!.detail).toBe('unknown: the count gave no column n');
    expect((await verdict(counting(103), [lost()])).checks[0]).toMatchObject({
      ok: false,
      detail: 'unknown: the count says 103 of 100 acknowledged rows are present, so it counts other rows too',
    });
  });
});

describe('a gate check', () => {
  it('when it fails, the checks after it are not run and say so (never a pass)', async () => {
    const c = promotingAt(1000);
    let counted = 0;
    const base = c.sqlAnswer;
    c.sqlAnswer = (sql, params) => (sql === 'select count' ? (counted++, [{ n: 100 }]) : base!(sql, params));
    const { r, checks } = await verdict(c, [promoted({ waitMs: 200, gate: true }), lost()]);
    expect(r.ok).toBe(false);
    expect(counted).toBe(0);
    expect(checks[1]).toEqual({
      name: 'acknowledged rows kept',
      ok: false,
      waitedMs: 0,
      detail: 'not checked: the standby took over failed',
    });
  });

  it('when it passes, the rest run as usual', async () => {
    const c = promotingAt(2);
    const base = c.sqlAnswer;
    c.sqlAnswer = (sql, params) => (sql === 'select count' ? [{ n: 100 }] : base!(sql, params));
    const { r, checks } = await verdict(c, [promoted({ gate: true }), lost()]);
    expect(r.ok).toBe(true);
    expect(checks[1]!.detail).toBe('0 of 100 acknowledged rows lost');
  });
});
