import { systemClock } from '../../../src/adapters/system-clock';
import { sealPlan, type VerdictCheck } from '../../../src/core/plan';
import { runVerdict } from '../../../src/engine/run-verdict';
import { FakeConnector } from './fakes';

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

function ctx(connector: FakeConnector) {
  const progress: string[] = [];
  return {
    progress,
    ctx: {
      plan,
      target: plan.targets.p!,
      connector,
      clock: systemClock,
      signal: new AbortController().signal,
      onProgress: (p: { message?: string }) => progress.push(p.message ?? ''),
    },
  };
}

const catchUp: VerdictCheck = {
  kind: 'catch-up',
  name: 'caught up',
  primary: 'p',
  standby: 's',
  positionSql: 'select pos',
  caughtUpSql: 'select caught',
  waitMs: 2000,
};

describe('verdict', () => {
  it('runs every check, shows each, and measures how long it waited', async () => {
    const c = new FakeConnector();
    let replayCalls = 0;
    c.sqlAnswer = (sql) => {
      if (sql === 'select pos') return [{ position: '0/5000000' }];
      if (sql === 'select caught') return [{ caught_up: ++replayCalls >= 3 }]; // catches up on the 3rd look
      if (sql === 'select state') return [{ state: 'streaming' }];
      return [];
    };
    const { ctx: x, progress } = ctx(c);
    const r = await runVerdict(
      [
        {
          kind: 'probe',
          name: 'streaming',
          target: 'p',
          probe: { kind: 'sql', sql: 'select state', params: [] },
          expect: { kind: 'column-equals', column: 'state', value: 'streaming' },
          waitMs: 0,
        },
        catchUp,
      ],
      x,
    );
    expect(r.ok).toBe(true);
    const checks = (
      r.detail as { checks: Array<{ name: string; ok: boolean; waitedMs: number; detail: string }> }
    ).checks;
    expect(checks.map((k) => [k.name, k.ok, k.detail])).toEqual([
      ['streaming', true, 'as expected'],
      ['caught up', true, 'replayed up to 0/5000000'],
    ]);
    expect(checks[1]!.waitedMs).toBeGreaterThanOrEqual(300); // two 200 ms polls
    expect(progress).toEqual(['pass: streaming', 'pass: caught up']);
  });

  it('fails when any check fails, but still runs and reports the others', async () => {
    const c = new FakeConnector();
    c.sqlAnswer = (sql) => {
      if (sql.startsWith('select count(*) as n, pos')) return [{ n: '100', position: '0/1' }];
      if (sql === 'select count(*) as n') return [{ n: '90' }];
      if (sql === 'select caught') return [{ caught_up: true }];
      if (sql === 'select pos') throw new Error('connection refused');
      return [];
    };
    const { ctx: x } = ctx(c);
    const r = await runVerdict(
      [
        { ...catchUp, waitMs: 0 },
        {
          kind: 'rows',
          name: 'rows of t',
          primary: 'p',
          standby: 's',
          countSql: 'select count(*) as n, pos',
          standbyCountSql: 'select count(*) as n',
          caughtUpSql: 'select caught',
          waitMs: 300,
        },
      ],
      x,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.failure.message).toBe(
      '2 of 2 checks failed: caught up (connection refused); rows of t (s has 90 rows, p had 100)',
    );
  });

  it('counts rows written after the primary was counted as newer, not missing', async () => {
    const c = new FakeConnector();
    c.sqlAnswer = (sql) =>
      sql.includes(', pos')
        ? [{ n: '1000', position: '0/1' }]
        : sql.includes('caught')
          ? [{ caught_up: true }]
          : [{ n: '1012' }];
    const { ctx: x } = ctx(c);
    const r = await runVerdict(
      [
        {
          kind: 'rows',
          name: 'rows',
          primary: 'p',
          standby: 's',
          countSql: 'select count(*) as n, pos',
          standbyCountSql: 'select n',
          caughtUpSql: 'select caught',
          waitMs: 0,
        },
      ],
      x,
    );
    expect((r.detail as { checks: Array<{ detail: string }> }).checks[0]!.detail).toBe(
      'all 1000 rows (+12 written since)',
    );
  });
});
