import { systemClock } from '../../../src/adapters/system-clock';
import { sealPlan, type Action } from '../../../src/core/plan';
import { runAction } from '../../../src/engine/run-action';
import { FakeConnector } from './fakes';

// verify and wait-until may probe another target than their step's (`on`): an undo that checks the
// new primary before it starts the old one again. The probe must go there, and only there.

const t = (name: string, host: string) => ({ name, host, sshPort: 22, sqlPort: 5432 });
const plan = sealPlan({
  formatVersion: 1,
  runbook: { id: 't', version: 1 },
  cluster: 'c',
  dialect: 'postgresql',
  params: {},
  requester: 'U',
  createdAt: '2026-11-20T00:00:00.000Z',
  targets: { srv11: t('srv11', '192.0.2.11'), srv13: t('srv13', '192.0.2.13') },
  snapshot: null,
  steps: [],
});

function ctx(connector: FakeConnector) {
  const progress: string[] = [];
  return {
    progress,
    ctx: {
      plan,
      target: plan.targets.srv11!, // the step's own target
      connector,
      clock: systemClock,
      signal: new AbortController().signal,
      onProgress: (p: { message?: string }) => progress.push(p.message ?? ''),
    },
  };
}

const inRecovery = (on?: string): Action => ({
  kind: 'verify',
  probe: { kind: 'ssh', argv: ['pg-in-recovery'] },
  expect: { kind: 'exit-code', equals: 0 },
  ...(on !== undefined && { on }),
});

describe('verify on another target', () => {
  it('probes the named target, not the step’s', async () => {
    const c = new FakeConnector();
    c.shellFor('srv11').on(/pg-in-recovery/, () => ({ exitCode: 1 })); // would fail here
    const r = await runAction(inRecovery('srv13'), 'undo-stop', ctx(c).ctx);
    expect(r).toEqual({ ok: true });
    expect(c.shellFor('srv13').calls).toEqual(["'pg-in-recovery'"]);
    expect(c.shellFor('srv11').calls).toEqual([]);
  });

  it('fails naming the host whose fact did not hold', async () => {
    const c = new FakeConnector();
    c.shellFor('srv13').on(/pg-in-recovery/, () => ({ exitCode: 1 }));
    const r = await runAction(inRecovery('srv13'), 'undo-stop', ctx(c).ctx);
    expect(r).toMatchObject({
      ok: false,
      kind: 'failure',
      failure: { code: 'check-failed', message: 'on srv13: exit code 1, expected exit code 0' },
    });
  });

  it('without `on`, still probes the step’s own target', async () => {
    const c = new FakeConnector();
    await runAction(inRecovery(), 'check', ctx(c).ctx);
    expect(c.shellFor('srv11').calls).toEqual(["'pg-in-recovery'"]);
    expect(c.shells.has('srv13')).toBe(false);
  });

  it('is an error of the plan, touching no host, when `on` names no target', async () => {
    const c = new FakeConnector();
    const r = await runAction(inRecovery('srv99'), 'undo-stop', ctx(c).ctx);
    expect(r).toEqual({
      ok: false,
      kind: 'error',
      failure: { code: 'plan-invalid', message: 'the check names unknown target srv99' },
    });
    expect(c.shells.size).toBe(0);
  });
});

describe('wait-until on another target', () => {
  it('waits on the named target, saying where while it waits', async () => {
    const c = new FakeConnector();
    let looks = 0;
    c.sqlAnswer = () => [{ r: ++looks >= 3 }];
    const { ctx: x, progress } = ctx(c);
    const r = await runAction(
      {
        kind: 'wait-until',
        probe: { kind: 'sql', sql: 'select caught_up as r', params: [] },
        until: { kind: 'column-equals', column: 'r', value: true },
        intervalMs: 10,
        on: 'srv13',
      },
      'wait',
      x,
    );
    expect(r).toEqual({ ok: true });
    expect(c.sqls.get('srv13')?.calls).toHaveLength(3);
    expect(c.sqls.has('srv11')).toBe(false);
    expect(progress).toEqual([
      'waiting: on srv13: column r = false, expected true',
      'waiting: on srv13: column r = false, expected true',
    ]);
  });
});
