import { progressReadersOf } from '../../src/app/compose-runs';
import { RUNBOOKS } from '../../src/runbooks';
import { systemClock } from '../../src/adapters/system-clock';
import { sealPlan } from '../../src/core/plan';
import { Engine } from '../../src/engine/engine';
import { Executor } from '../../src/engine/executor';
import type { RunStore } from '../../src/ports/run-store';
import { createRunStore } from '../../src/store/create-run-store';
import { FakeConnector } from '../unit/engine/fakes';
import { startThrowawayPostgres, type ThrowawayPostgres } from './support/throwaway-postgres';

// Two kbops replicas (own process state, own connection pools) share one real PostgreSQL and
// race for the same approved runs: every run must be executed exactly once.

const RUNS = 60;
let pg: ThrowawayPostgres;
const stores: RunStore[] = [];

beforeAll(async () => {
  pg = await startThrowawayPostgres();
});
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await pg?.stop();
});

it(`two engines on one database execute each of ${RUNS} runs exactly once`, async () => {
  const [a, b] = await Promise.all([
    createRunStore({ databaseUrl: pg.url }),
    createRunStore({ databaseUrl: pg.url }),
  ]);
  stores.push(a!, b!);
  const executedBy = new Map<string, string[]>();
  const engine = (store: RunStore, owner: string) => {
    const connector = new FakeConnector();
    const shell = connector.shellFor('n1');
    // Each "remote command" records which replica ran it, and takes a little while.
    shell.on(/echo/, async (text) => {
      const run = /'(R-\d+)'/.exec(text)![1]!;
      executedBy.set(run, [...(executedBy.get(run) ?? []), owner]);
      await systemClock.sleep(5);
      return { exitCode: 0 };
    });
    const executor = new Executor({
      progressReaders: progressReadersOf(RUNBOOKS),
      store,
      connectorFor: () => connector,
      notifier: { notify: () => undefined },
      clock: systemClock,
      owner,
      leaseMs: 10_000,
      pollMs: 50,
      baseApprovals: () => 1,
      autoRollback: () => false,
    });
    return new Engine({
      store,
      executor,
      clock: systemClock,
      owner,
      leaseMs: 10_000,
      pollMs: 10,
      maxConcurrent: 4,
    });
  };

  for (let i = 0; i < RUNS; i++) {
    const id = `R-${i}`;
    const plan = sealPlan({
      formatVersion: 1,
      runbook: { id: 'echo', version: 1 },
      cluster: `cluster-${i}`,
      dialect: 'postgresql',
      params: {},
      requester: 'U_REQ',
      createdAt: '2026-11-20T00:00:00.000Z',
      targets: { n1: { name: 'n1', host: '192.0.2.1', sshPort: 22, sqlPort: 5432 } },
      snapshot: null,
      steps: [
        {
          id: 'say',
          title: 'say',
          target: 'n1',
          action: { kind: 'ssh', argv: ['echo', id] },
          timeoutMs: 5000,
          mutates: false,
          undo: null,
        },
      ],
    });
    const created = await a!.createRun({ id, plan, expiresAt: null });
    if (!created.ok) throw new Error('lock');
    await a!.recordApproval({ runId: id, userId: 'U_APP', planHash: plan.hash, decision: 'approve' });
    await a!.applyEvent(id, 'approve', { actor: 'U_APP' });
  }

  const engines = [engine(a!, 'replica-a'), engine(b!, 'replica-b')];
  await Promise.all(engines.map((e) => e.start()));
  const deadline = Date.now() + 60_000;
  while ((await a!.listRuns({ states: ['succeeded'] })).length < RUNS && Date.now() < deadline) {
    await systemClock.sleep(100);
  }
  await Promise.all(engines.map((e) => e.stop()));

  expect((await a!.listRuns({ states: ['succeeded'], limit: 1000 })).length).toBe(RUNS);
  expect([...executedBy.values()].filter((owners) => owners.length !== 1)).toEqual([]);
  expect(executedBy.size).toBe(RUNS);
  // Both replicas did work (not a test of one engine alone).
  const counts = [...executedBy.values()]
    .flat()
    .reduce<Record<string, number>>((m, o) => ({ ...m, [o]: (m[o] ?? 0) + 1 }), {});
  expect(Object.keys(counts).sort()).toEqual(['replica-a', 'replica-b']);
  for (const r of await a!.listRuns({ limit: 1000 })) {
    const starts = (await a!.events({ runId: r.id })).filter((e) => e.event.type === 'step-started');
    expect([r.id, starts.length]).toEqual([r.id, 1]);
  }
}, 120_000);
