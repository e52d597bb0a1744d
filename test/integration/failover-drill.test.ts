import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConnector } from '../../src/adapters/cluster-connector';
import { checksPassed } from '../../src/core/check';
import type { CheckResult, Run } from '../../src/core/run';
import type { Notifier } from '../../src/ports/notifier';
import type { RunStore } from '../../src/ports/run-store';
import { failoverTestRunbook } from '../../src/runbooks/failover-test/failover-runbook';
import { prepareRun } from '../../src/runbooks/prepare-run';
import { createRunStore } from '../../src/store/create-run-store';
import { labDown } from '../../lab/lab-down';
import { labLayout } from '../../lab/lab-layout';
import { keepStoreArtifacts } from '../support/store-artifacts';
import { comparable, snapshotLab } from './support/cluster-snapshot';
import { editFile, labQuery, poolNodes, runAsLabUser } from './support/lab-tools';
import { prepareAddNodeRun } from './support/prepare-add-node-run';
import { runApproved } from './support/approved-run';
import { runPlanUnattended } from './support/unattended';
import { startPrivateLab, type PrivateLab } from './support/private-lab';

// The failover drill on a lab of its own (base 220): add the third node, then (1) with pgpool's
// failover_command emptied, the drill reports no promotion within its bound and puts the cluster
// back exactly as it was; (2) with failover on, the new node is promoted, measured, and (3) the
// restore brings the two stopped nodes back as its streaming standbys, all three up in the pool.

const BASE = 220;
let pl: PrivateLab | undefined;
let store: RunStore | undefined;
let work: string;
const notifier: Notifier = { notify: async () => undefined };
const lab = () => pl!.lab;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kbops-drill-'));
  pl = await startPrivateLab(BASE, 'drill');
  store = await createRunStore({ dataDir: join(work, 'store') });
  const added = await prepareAddNodeRun(
    { cluster: 'lab', host: lab().hosts[2].address },
    { inventory: pl.inventory, requester: 'UALICE' },
  );
  if (!added.ok) throw new Error(added.failure.message);
  const r = await runPlanUnattended(added.plan!, {
    store,
    inventory: pl.inventory,
    notifier,
    owner: 'drill-test',
    rollbackOnFailure: true,
  });
  if (!r.ok || r.run.state !== 'succeeded') throw new Error(`add-node: ${JSON.stringify(r)}`);
}, 240_000);

afterAll(async () => {
  if (store) await keepStoreArtifacts(store, 'failover-drill');
  await store?.close();
  if (pl) await pl.stop();
  else {
    const l = labLayout({ root: `/var/tmp/kbops-lab-drill-${process.pid}`, base: BASE });
    if (existsSync(l.root)) await labDown(l, () => undefined);
  }
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

async function plan(input: Record<string, unknown>) {
  const r = await prepareRun(failoverTestRunbook, input, {
    inventory: pl!.inventory,
    requester: 'UALICE',
    connectorFor: (c) => new ClusterConnector(c, process.env),
  });
  if (!r.ok) throw new Error(`${r.failure.message}`);
  if (!r.plan) throw new Error(`preflight failed:\n${JSON.stringify(r.preflight, null, 1)}`);
  return { ...r, plan: r.plan };
}

async function verdictOf(run: Run): Promise<CheckResult[]> {
  const events = await store!.events({ runId: run.id });
  const done = events.find(
    (e: { event: { type: string; stepId?: string; phase?: string } }) =>
      e.event.type === 'step-finished' && e.event.stepId === 'verdict' && e.event.phase === 'do',
  );
  const outcome = done?.event.type === 'step-finished' ? done.event.outcome : undefined;
  return ((outcome?.detail as { checks?: CheckResult[] } | undefined)?.checks ?? []) as CheckResult[];
}

/** The first step that failed, with what it said (so a failure in CI explains itself). */
async function failedStep(run: Run): Promise<unknown> {
  const events = await store!.events({ runId: run.id });
  const e = events.find((x) => x.event.type === 'step-finished' && !x.event.outcome.ok);
  return e?.event.type === 'step-finished' ? { step: e.event.stepId, outcome: e.event.outcome } : undefined;
}

const inRecovery = async (i: number) =>
  (
    await labQuery<{ r: boolean }>(
      lab(),
      { host: lab().hosts[i]!.address, port: lab().sqlPort },
      'select pg_is_in_recovery() as r',
    )
  )[0]?.r;

/** Reloads pgpool and waits until it answers with every backend up (its children restart on a reload). */
async function reloadPool(): Promise<void> {
  await runAsLabUser(lab(), '/usr/sbin/pgpool', ['-f', lab().pool.conf, 'reload']);
  for (let i = 0; i < 40; i++) {
    const rows = await poolNodes(lab()).catch(() => undefined);
    if (rows?.length === 3 && rows.every((r) => r.status === 'up')) break;
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('failover disabled: no promotion within the bound, and the cluster is put back exactly', async () => {
  const restore = await editFile(lab().pool.conf, (t) =>
    t.replace(/^failover_command = .*$/m, "failover_command = ''"),
  );
  await reloadPool();
  try {
    const p = await plan({ cluster: 'lab', wait: 10 });
    expect(p.preflight.find((c) => c.name === 'failover-srv221')?.status).toBe('warn');
    expect(checksPassed(p.preflight)).toBe(true);
    const before = await snapshotLab(lab());
    const run = await runApproved(p.plan, ['UBOB', 'UCAROL'], {
      store: store!,
      inventory: pl!.inventory,
      notifier,
      owner: 'drill-test',
    });
    // The verdict failed (no promotion) and nothing before it.
    expect(await failedStep(run)).toMatchObject({ step: 'verdict' });
    expect(run.state).toBe('rolled_back');
    const checks = await verdictOf(run);
    expect(checks[0]).toMatchObject({ ok: false, name: 'srv223 promoted within 10 s (expected winner)' });
    // Said plainly, with what pgpool logged about it (it looked for a primary and found none).
    expect(checks[0]!.detail).toMatch(
      /^failover did NOT happen within 10 s: srv223 is still a standby \(.*\); pool-srv221 logged: .*find_primary_node/,
    );
    expect(checks.slice(1).every((c) => !c.ok && c.detail.startsWith('not checked: '))).toBe(true);
    expect(await inRecovery(0)).toBe(false);
    // pgpool re-attaches asynchronously and restarts its children: give it a moment to settle.
    for (let i = 0; i < 40; i++) {
      const rows = await poolNodes(lab());
      if (rows?.length === 3 && rows.every((r) => r.status === 'up')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(comparable(await snapshotLab(lab()))).toEqual(comparable(before));
  } finally {
    await restore();
    await reloadPool();
  }
}, 300_000);

it('the drill promotes srv223, measures it, and the restore brings every node back streaming from it', async () => {
  const p = await plan({ cluster: 'lab' });
  expect(p.preflight.filter((c) => c.status !== 'pass').map((c) => c.name)).toEqual(['impact']);
  expect(p.plan.params.expectedWinner).toBe('srv223');
  const run = await runApproved(p.plan, ['UBOB', 'UCAROL'], {
    store: store!,
    inventory: pl!.inventory,
    notifier,
    owner: 'drill-test',
  });
  expect(await failedStep(run)).toBeUndefined();
  const checks = await verdictOf(run);
  expect(checks.map((c) => [c.name, c.ok])).toEqual(checks.map((c) => [c.name, true]));
  expect(run.state).toBe('succeeded');
  expect(checks[0]?.detail).toMatch(/^failover time \d+\.\d s$/);
  expect(checks.find((c) => c.name === 'acknowledged rows on srv223')!.detail).toBe(
    '0 of 100 acknowledged rows lost',
  );
  expect(await inRecovery(2)).toBe(false);

  const r = await plan({ cluster: 'lab', phase: 'restore' });
  expect(r.preflight.filter((c) => c.status !== 'pass')).toEqual([]);
  expect(r.plan.params.rejoin).toEqual(['srv221', 'srv222']);
  const restored = await runApproved(r.plan, ['UBOB', 'UCAROL'], {
    store: store!,
    inventory: pl!.inventory,
    notifier,
    owner: 'drill-test',
  });
  expect(await failedStep(restored)).toBeUndefined();
  expect((await verdictOf(restored)).filter((c) => !c.ok)).toEqual([]);
  expect(restored.state).toBe('succeeded');
  const streaming = await labQuery<{ application_name: string; state: string }>(
    lab(),
    { host: lab().hosts[2].address, port: lab().sqlPort },
    'select application_name, state from pg_stat_replication order by 1',
  );
  expect(streaming).toEqual([
    { application_name: 'srv221', state: 'streaming' },
    { application_name: 'srv222', state: 'streaming' },
  ]);
  const pool = await poolNodes(lab());
  expect(pool?.map((n) => [n.node_id, n.status, n.role])).toEqual([
    ['0', 'up', 'standby'],
    ['1', 'up', 'standby'],
    ['2', 'up', 'primary'],
  ]);
}, 400_000);
