import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ClusterConnector } from '../../src/adapters/cluster-connector';
import { composeRuns } from '../../src/app/compose-runs';
import type { CheckResult, StoredEvent } from '../../src/core/run';
import type { Notifier } from '../../src/ports/notifier';
import type { RunStore } from '../../src/ports/run-store';
import { failoverTestRunbook } from '../../src/runbooks/failover-test/failover-runbook';
import { prepareRun } from '../../src/runbooks/prepare-run';
import { createRunStore } from '../../src/store/create-run-store';
import { labDown } from '../../lab/lab-down';
import { labLayout } from '../../lab/lab-layout';
import { keepStoreArtifacts } from '../support/store-artifacts';
import { runApproved } from '../integration/support/approved-run';
import { editFile, labQuery, poolNodes } from '../integration/support/lab-tools';
import { prepareAddNodeRun } from '../integration/support/prepare-add-node-run';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../integration/support/throwaway-postgres';
import { runPlanUnattended } from '../integration/support/unattended';
import { lockLabBase, type Release } from './support/lab-base-lock';
import { runReport, startedIds } from './support/run-journal';
import { ownerViolations } from './support/single-owner';
import { waitUntil } from './support/wait-until';
import { killAllWorkers, spawnWorker, waitExit, type WorkerProcess } from './support/worker-process';

// Issue (failover-test): "Kill the bot in the middle of the wait for promotion: after restart the
// run is `interrupted`, its probes tell what happened, and rollback or resume ends with one primary
// and every node streaming." On a private lab (base 230) with srv233 added by add-node, the drill
// runs in a worker process that is SIGKILLed while its verdict waits for pgpool to promote srv233
// (the lab's failover_command is held a few seconds, so the kill surely comes first). pgpool
// promotes it anyway, with no bot alive; a fresh worker (another owner) finds the run interrupted once the dead
// one's lease has run out; the operator resumes it (the probes say every stop took effect), the
// verdict passes without pretending to have measured the failover, and the restore phase brings
// srv231 and srv232 back as streaming standbys of srv233.

const BASE = 230;
const NAME = 'chaos-failover';
const LEASE_MS = 5_000;
/** After the worker journals the verdict's start: its first look at srv233 has been taken, the wait goes on. */
const KILL_DELAY_MS = 300;
/** pgpool's failover_command waits this long before it promotes: the kill lands before the promotion. */
const PROMOTION_HOLD_S = 3;
const REQUESTER = 'UALICE';
const APPROVERS = ['UBOB', 'UCAROL'] as const;
const OWNERS = ['chaos-failover-worker-1', 'chaos-failover-worker-2'] as const;

let pl: PrivateLab | undefined;
let pg: ThrowawayPostgres | undefined;
let store: RunStore | undefined;
let release: Release | undefined;
const notifier: Notifier = { notify: async () => undefined };
const lab = () => pl!.lab;
const laps: string[] = [];
let lapAt = Date.now();
const lap = (what: string) => {
  laps.push(`${what} ${((Date.now() - lapAt) / 1000).toFixed(1)} s`);
  lapAt = Date.now();
};

beforeAll(async () => {
  release = await lockLabBase(BASE, 60_000);
  pl = await startPrivateLab(BASE, NAME); // first: as root, the throwaway server runs as the lab's OS user
  pg = await startThrowawayPostgres();
  store = await createRunStore({ databaseUrl: pg.url });
  lap('lab up');
  const added = await prepareAddNodeRun(
    { cluster: 'lab', host: lab().hosts[2].address },
    { inventory: pl.inventory, requester: REQUESTER },
  );
  if (!added.ok) throw new Error(added.failure.message);
  if (!added.plan) throw new Error(`add-node preflight failed: ${JSON.stringify(added.preflight)}`);
  const r = await runPlanUnattended(added.plan, {
    store,
    inventory: pl.inventory,
    notifier,
    owner: 'chaos-failover-setup',
    rollbackOnFailure: true,
  });
  if (!r.ok || r.run.state !== 'succeeded') throw new Error(`add-node: ${JSON.stringify(r)}`);
  lap('add-node');
}, 240_000);

afterAll(async () => {
  await killAllWorkers();
  if (store) await keepStoreArtifacts(store, 'failover-kill').catch(() => undefined);
  await store?.close().catch(() => undefined);
  if (pl) await pl.stop().catch(() => undefined);
  const l = labLayout({ root: `/var/tmp/kbops-lab-${NAME}-${process.pid}`, base: BASE });
  if (existsSync(l.root)) await labDown(l, () => undefined).catch(() => undefined);
  await pg?.stop();
  release?.();
  process.stdout.write(`failover-kill timings: ${laps.join(', ')}\n`);
}, 120_000);

async function plan(input: Record<string, unknown>) {
  const r = await prepareRun(failoverTestRunbook, input, {
    inventory: pl!.inventory,
    requester: REQUESTER,
    connectorFor: (c) => new ClusterConnector(c, process.env),
  });
  if (!r.ok) throw new Error(r.failure.message);
  if (!r.plan) throw new Error(`preflight failed:\n${JSON.stringify(r.preflight, null, 1)}`);
  return { ...r, plan: r.plan };
}

/** The checks of the last verdict the run finished (forward). */
function verdictChecks(events: readonly StoredEvent[]): CheckResult[] {
  const done = events.filter(
    (e) => e.event.type === 'step-finished' && e.event.stepId === 'verdict' && e.event.phase === 'do',
  );
  const last = done.at(-1)?.event;
  const outcome = last?.type === 'step-finished' ? last.outcome : undefined;
  return ((outcome?.detail as { checks?: CheckResult[] } | undefined)?.checks ?? []) as CheckResult[];
}

const inRecovery = async (i: 0 | 1 | 2): Promise<boolean | null> =>
  (
    await labQuery<{ r: boolean }>(
      lab(),
      { host: lab().hosts[i].address, port: lab().sqlPort },
      'select pg_is_in_recovery() as r',
    ).catch(() => [])
  )[0]?.r ?? null;

it('SIGKILL while the verdict waits for the promotion: interrupted, probed, resumed; the restore ends with one primary and every node streaming', async () => {
  const [srv231, srv232, srv233] = lab().hosts.map((h) => h.name) as [string, string, string];
  const { runs } = composeRuns({
    inventory: pl!.inventory,
    env: process.env,
    store: store!,
    groupsOf: () => [],
    notifier,
    owner: 'chaos-failover-test',
    onError: (what, err) => {
      throw new Error(`${what}: ${String(err)}`);
    },
  });

  // The drill, approved by two people other than its requester (as its plan demands).
  const drill = await plan({ cluster: 'lab' });
  expect(drill.plan.params.expectedWinner).toBe(srv233);
  const ids = drill.plan.steps.map((s) => s.id);
  // The standbys but the target stopped, then the primary, then the verdict that waits for the promotion.
  expect(ids.slice(-4)).toEqual(['only-target-streams', 'stop-primary', 'verdict', 'drop-drill-table']);
  expect(ids).toContain(`stop-${srv232}`);
  expect(ids).not.toContain(`stop-${srv233}`);
  const verdictAt = ids.indexOf('verdict');
  const submitted = await runs.submit(drill.plan);
  if (!submitted.ok) throw new Error(submitted.failure.message);
  const runId = submitted.run.id;
  for (const user of APPROVERS) {
    const v = await runs.vote(runId, user, 'approve', drill.plan.hash);
    if (!v.ok) throw new Error(`vote by ${user}: ${v.failure.message}`);
  }
  expect((await store!.getRun(runId))?.state).toBe('approved');
  lap('plan + votes');

  const workers: WorkerProcess[] = [];
  const diag = async () =>
    [
      await runReport(store!, runId),
      `pool nodes now: ${JSON.stringify(await poolNodes(lab()))}`,
      ...workers.map((w) => w.transcript()),
    ].join('\n');
  const worker = (owner: string, onLine?: (line: string) => void) => {
    const w = spawnWorker({
      storeUrl: pg!.url,
      inventoryPath: lab().inventoryPath,
      runId,
      owner,
      leaseMs: LEASE_MS,
      ...(onLine && { onLine }),
    });
    workers.push(w);
    return w;
  };

  // 1. The bot dies while the verdict waits for srv233's promotion (the primary is already stopped).
  const unhold = await editFile(lab().pool.failoverScript, (t) =>
    t.replace(
      /^exec ssh /m,
      `sleep ${PROMOTION_HOLD_S} # failover-kill.test.ts: the bot dies first\nexec ssh `,
    ),
  );
  let killTimer: NodeJS.Timeout | undefined;
  const first: WorkerProcess = worker(OWNERS[0], (line) => {
    if (killTimer || !line.startsWith('{')) return;
    const e = JSON.parse(line) as { type?: string; stepId?: string; phase?: string };
    if (e.type === 'step-started' && e.stepId === 'verdict' && e.phase === 'do') {
      // Only the worker this test started, by its handle (its pid).
      killTimer = setTimeout(() => first.child.kill('SIGKILL'), KILL_DELAY_MS);
    }
  });
  const firstEnd = await waitExit(first, 150_000);
  const targetStandbyAtKill = await inRecovery(2);
  lap('drill until the kill');
  if (firstEnd.signal !== 'SIGKILL')
    throw new Error(`the first worker was not killed (${JSON.stringify(firstEnd)})\n${await diag()}`);
  const atKill = await store!.events({ runId });
  const verdictEvents = atKill.filter(
    (e) =>
      (e.event.type === 'step-started' ||
        e.event.type === 'step-finished' ||
        e.event.type === 'step-progress') &&
      e.event.stepId === 'verdict',
  );
  // The verdict was in flight: started by the dead worker, no check reported, never finished; every
  // step before it done; and srv233 not yet promoted: the kill came in the middle of the wait.
  expect(verdictEvents.map((e) => [e.event.type, e.actor])).toEqual([['step-started', OWNERS[0]]]);
  expect(
    atKill.flatMap((e) => (e.event.type === 'step-finished' && e.event.outcome.ok ? [e.event.stepId] : [])),
  ).toEqual(ids.slice(0, verdictAt));
  expect(targetStandbyAtKill).toBe(true);
  const stuck = (await store!.getRun(runId))!;
  expect({ state: stuck.state, owner: stuck.owner, nextStep: stuck.nextStep }).toEqual({
    state: 'running', // nobody has noticed yet
    owner: OWNERS[0],
    nextStep: verdictAt,
  });

  // 2. pgpool's failover_command promotes srv233 all the same, with no bot alive.
  await waitUntil(
    'pgpool to promote srv233',
    async () => ((await inRecovery(2)) === false ? true : undefined),
    PROMOTION_HOLD_S * 1000 + 30_000,
    diag,
  );
  await unhold();
  lap('promotion');
  const failoverLog = await readFile(lab().pool.failoverLog, 'utf8');
  expect(failoverLog).toContain(
    `failed=0(${lab().hosts[0].address}) old_primary=0 new_main=2(${lab().hosts[2].address})`,
  );

  // 3. A fresh worker (another owner) finds the run interrupted once the dead one's lease is over.
  const second = worker(OWNERS[1]);
  const interrupted = await waitUntil(
    'the fresh worker to mark the run interrupted',
    async () => {
      const r = await store!.getRun(runId);
      return r?.state === 'interrupted' ? r : undefined;
    },
    LEASE_MS + 30_000,
    diag,
  );
  lap('interrupted');
  expect(interrupted.nextStep).toBe(verdictAt);
  const why = (await store!.events({ runId })).flatMap((e) =>
    e.event.type === 'state' && e.event.to === 'interrupted' ? [e.event.reason ?? ''] : [],
  );
  expect(why).toHaveLength(1);
  expect(why[0]).toContain(OWNERS[0]);

  // 4. The operator resumes: the probes (journaled) say every change up to the verdict took effect.
  const resumed = await runs.resume(runId, APPROVERS[0]);
  if (!resumed.ok) throw new Error(`resume refused: ${resumed.failure.message}\n${await diag()}`);
  // Every change up to the verdict has an effect probe, and each says it took effect.
  const expectedReadings = drill.plan.steps
    .slice(0, verdictAt)
    .filter((st) => st.mutates && st.effect)
    .map((st) => [st.id, true]);
  expect(expectedReadings.map(([id]) => id)).toEqual(
    expect.arrayContaining(['drill-table', `stop-${srv232}`, 'stop-primary']),
  );
  expect(resumed.assessment.readings.map((r) => [r.stepId, r.present])).toEqual(expectedReadings);
  expect(resumed.assessment.resumeAt).toBe(verdictAt);
  const probes = (await store!.events({ runId })).flatMap((e) =>
    e.event.type === 'probe' ? [[e.event.stepId, e.event.present]] : [],
  );
  expect(probes).toEqual(expectedReadings);

  const secondEnd = await waitExit(second, 180_000);
  lap('resume');
  const run = (await store!.getRun(runId))!;
  if (run.state !== 'succeeded' || secondEnd.code !== 0)
    throw new Error(`run ended ${run.state} (worker exit ${JSON.stringify(secondEnd)})\n${await diag()}`);
  const events = await store!.events({ runId });
  // The verdict ran again from its start, then the last step; nothing before it ran twice.
  expect(startedIds(events, 'do')).toEqual([...ids.slice(0, verdictAt + 1), ...ids.slice(verdictAt)]);
  expect(startedIds(events, 'undo')).toEqual([]);
  expect(ownerViolations(events)).toEqual([]);
  const checks = verdictChecks(events);
  expect(checks.map((c) => [c.name, c.ok])).toEqual(checks.map((c) => [c.name, true]));
  expect(checks[0]).toMatchObject({
    name: expect.stringContaining(`${srv233} promoted`),
    // Honest: the promotion happened while no bot watched, so no failover time is claimed.
    detail: 'failover time not measured: already so when first checked',
  });
  expect(checks.find((c) => c.name === `acknowledged rows on ${srv233}`)?.detail).toBe(
    '0 of 100 acknowledged rows lost',
  );
  expect(await store!.getLock('lab')).toBeUndefined();
  // One primary: srv233; the old primary and the other standby are stopped (no split brain).
  expect(await inRecovery(2)).toBe(false);
  expect([await inRecovery(0), await inRecovery(1)]).toEqual([null, null]);

  // 5. The restore (its own plan, two approvers): srv231 and srv232 rejoin as standbys of srv233.
  const restore = await plan({ cluster: 'lab', phase: 'restore' });
  expect(restore.plan.params).toMatchObject({ primary: srv233, rejoin: [srv231, srv232] });
  const restored = await runApproved(restore.plan, APPROVERS, {
    store: store!,
    inventory: pl!.inventory,
    notifier,
    owner: 'chaos-failover-test',
  });
  lap('restore');
  const restoreChecks = verdictChecks(await store!.events({ runId: restored.id }));
  expect(restoreChecks.filter((c) => !c.ok)).toEqual([]);
  expect(restored.state).toBe('succeeded');

  // One primary, every node streaming from it, all three up in the pool.
  expect([await inRecovery(0), await inRecovery(1), await inRecovery(2)]).toEqual([true, true, false]);
  const streaming = await labQuery<{ application_name: string; state: string }>(
    lab(),
    { host: lab().hosts[2].address, port: lab().sqlPort },
    'select application_name, state from pg_stat_replication order by 1',
  );
  expect(streaming).toEqual([
    { application_name: srv231, state: 'streaming' },
    { application_name: srv232, state: 'streaming' },
  ]);
  const pool = await poolNodes(lab());
  expect(pool?.map((n) => [n.node_id, n.status, n.role])).toEqual([
    ['0', 'up', 'standby'],
    ['1', 'up', 'standby'],
    ['2', 'up', 'primary'],
  ]);
}, 300_000);
