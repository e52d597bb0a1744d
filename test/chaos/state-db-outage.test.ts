import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock } from '../../src/adapters/system-clock';
import { ClusterConnector } from '../../src/adapters/cluster-connector';
import type { Run } from '../../src/core/run';
import { RunService } from '../../src/engine/run-service';
import type { RunStore } from '../../src/ports/run-store';
import { prepareAddNodeRun } from '../integration/support/prepare-add-node-run';
import { createRunStore } from '../../src/store/create-run-store';
import { labDown } from '../../lab/lab-down';
import { labLayout } from '../../lab/lab-layout';
import { comparable, snapshotLab } from '../integration/support/cluster-snapshot';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../integration/support/throwaway-postgres';
import { addBallast, dropBallast } from './support/ballast';
import { lockLabBase, type Release } from './support/lab-base-lock';
import { leftoverProcesses } from './support/leftover-processes';
import { runReport } from './support/run-journal';
import { ownerViolations } from './support/single-owner';
import { waitUntil } from './support/wait-until';
import { killAllWorkers, spawnWorker, waitExit, type WorkerProcess } from './support/worker-process';

// Issue 8: the state database (PostgreSQL store) stopped for 60 s in the middle of the base backup.
// Two worker processes (two bot replicas) share the store; the database goes down as soon as one
// of them has journaled the base backup's start (the copy then runs), and comes back 60 s later. The run must go on or end
// cleanly (succeeded, or interrupted and then resumed or rolled back clean), and the journal must
// show one owner at a time. Private lab, base 160.

const BASE = 160;
const NAME = 'chaos-outage';
const LEASE_MS = 30_000; // the bot's lease: shorter than the outage, so it runs out meanwhile
const OUTAGE_MS = 60_000;
/** Enough for a copy of several seconds on a fast, idle machine (about 200 MB/s here). */
const BALLAST_MB = Number(process.env.KBOPS_CHAOS_OUTAGE_BALLAST_MB ?? 800);
const SETTLED = ['succeeded', 'failed', 'rolled_back', 'rollback_failed', 'cancelled'];

let pl: PrivateLab | undefined;
let pg: ThrowawayPostgres | undefined;
let store: RunStore | undefined;
let release: Release | undefined;

beforeAll(async () => {
  // kill-every-step borrows this base as its second lab when it is free: wait for it.
  release = await lockLabBase(BASE, 30 * 60_000);
  pl = await startPrivateLab(BASE, NAME); // first: as root, the throwaway server runs as the lab's OS user
  pg = await startThrowawayPostgres();
  store = await createRunStore({ databaseUrl: pg.url });
}, 32 * 60_000);

afterAll(async () => {
  await killAllWorkers();
  await store?.close().catch(() => undefined);
  if (pl) await pl.stop();
  else {
    const lab = labLayout({ root: `/var/tmp/kbops-lab-${NAME}-${process.pid}`, base: BASE });
    if (existsSync(lab.root)) await labDown(lab, () => undefined);
  }
  await pg?.stop();
  release?.();
}, 120_000);

it('state database down for 60 s mid base backup: the run goes on or ends cleanly, one worker at a time', async () => {
  const lab = pl!.lab;
  const newHost = lab.hosts[2];
  const service = new RunService({
    store: store!,
    clock: systemClock,
    policyFor: () => ({
      required: 1,
      approvers: { users: ['U_APPROVER'], groups: [] },
      allowSelfApproval: false,
      ttlMs: 3_600_000,
      autoRollback: false,
      admins: { users: [], groups: [] },
    }),
    groupsOf: () => [],
    connectorFor: () => new ClusterConnector(pl!.cluster, process.env),
  });
  const t0 = Date.now();
  const timeline: string[] = [];
  const note = (what: string) =>
    timeline.push(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s  ${what}`);
  const workers: WorkerProcess[] = [];
  let runId = '';
  const diag = async () =>
    [
      `timeline:\n${timeline.join('\n')}`,
      runId ? await runReport(store!, runId) : '(no run)',
      ...workers.map((w) => w.transcript()),
    ].join('\n');

  await addBallast(lab, BALLAST_MB);
  try {
    const before = await snapshotLab(lab);
    const prepared = await prepareAddNodeRun(
      { cluster: 'lab', host: newHost.address },
      { inventory: pl!.inventory, requester: 'U_REQ' },
    );
    if (!prepared.ok || !prepared.plan)
      throw new Error(`no plan: ${JSON.stringify(prepared).slice(0, 2000)}`);
    const plan = prepared.plan;
    const submitted = await service.submit(plan);
    if (!submitted.ok) throw new Error(submitted.failure.message);
    runId = submitted.run.id;
    note(`run ${runId} submitted`);

    // The outage starts as soon as a worker has journaled the base backup's start; the ballast
    // makes the copy last longer than stopping the database takes.
    let outage: Promise<void> | undefined;
    const onLine = (line: string) => {
      if (outage || !line.startsWith('{')) return;
      const e = JSON.parse(line) as { type?: string; stepId?: string; phase?: string; owner?: string };
      if (e.type === 'step-started' && e.stepId === 'basebackup' && e.phase === 'do') {
        note(`${e.owner} started the base backup: stopping the state database`);
        outage = pg!.stopServer().then(() => void note('state database stopped'));
      }
    };
    for (const owner of ['chaos-outage-A', 'chaos-outage-B']) {
      workers.push(
        spawnWorker({
          storeUrl: pg!.url,
          inventoryPath: lab.inventoryPath,
          runId,
          owner,
          leaseMs: LEASE_MS,
          onLine,
        }),
      );
    }
    const voted = await service.vote(runId, 'U_APPROVER', 'approve', plan.hash);
    expect(voted.ok && voted.run.state).toBe('approved');
    note('approved');

    await waitUntil('the base backup to start', async () => (outage ? true : undefined), 120_000, diag);
    await outage;
    // The outage must hit the copy itself, or this test proves nothing about it.
    const copying = await leftoverProcesses(lab);
    note(`base backup processes at the outage: ${copying.length}`);
    expect({ copyingAtOutage: copying.length > 0 }).toEqual({ copyingAtOutage: true });

    await sleep(OUTAGE_MS);
    // By now every lease has run out, so another replica may take the run: the remote work of the
    // worker that held it must be gone, and no worker may have died of the outage.
    const stillCopying = await leftoverProcesses(lab);
    const alive = workers.map((w) => ({
      owner: w.owner,
      alive: w.child.exitCode === null && w.child.signalCode === null,
    }));
    note(`outage over: restarting the state database; alive: ${JSON.stringify(alive)}`);
    await pg!.startServer();
    note('state database up');
    expect(stillCopying).toEqual([]);
    expect(alive.filter((a) => !a.alive)).toEqual([]);

    // The run goes on, or ends up interrupted (its owner's lease expired): then the operator decides.
    const settledOrInterrupted = (r: Run | undefined) =>
      r && (SETTLED.includes(r.state) || r.state === 'interrupted') ? r : undefined;
    let run = await waitUntil(
      'the run to finish or be marked interrupted',
      async () => settledOrInterrupted(await store!.getRun(runId).catch(() => undefined)),
      LEASE_MS + 90_000,
      diag,
    );
    note(`run ${run.state}`);
    if (run.state === 'interrupted') {
      const resumed = await service.resume(runId, 'U_OPS');
      note(
        resumed.ok
          ? `resumed at step ${resumed.assessment.resumeAt}`
          : `resume refused: ${resumed.failure.message}`,
      );
      if (!resumed.ok) {
        const rolled = await service.rollback(runId, 'U_OPS');
        if (!rolled.ok)
          throw new Error(`neither resume nor rollback: ${rolled.failure.message}\n${await diag()}`);
        note('rolling back');
      }
      run = await waitUntil(
        'the run to end after the operator decided',
        async () => {
          const r = await store!.getRun(runId);
          return r && SETTLED.includes(r.state) ? r : undefined;
        },
        180_000,
        diag,
      );
      note(`run ${run.state}`);
    }
    const ends = await Promise.all(workers.map((w) => waitExit(w, 60_000)));
    note(`workers exited: ${JSON.stringify(ends)}`);
    process.stdout.write(`\nstate-db-outage timeline:\n${timeline.join('\n')}\n`);

    const events = await store!.events({ runId });
    if (!['succeeded', 'rolled_back'].includes(run.state)) {
      throw new Error(`run ended ${run.state}, expected succeeded or rolled_back\n${await diag()}`);
    }
    expect(ownerViolations(events)).toEqual([]);
    expect(ends).toEqual(workers.map(() => ({ code: 0, signal: null })));
    expect(await leftoverProcesses(lab)).toEqual([]);
    expect(await store!.getLock('lab')).toBeUndefined();
    const after = await snapshotLab(lab);
    if (run.state === 'rolled_back') {
      expect(comparable(after)).toEqual(comparable(before));
    } else {
      expect(after.replication).toEqual(
        expect.arrayContaining([{ application_name: newHost.name, state: 'streaming' }]),
      );
      expect(after.slots[lab.hosts[0].name]).toEqual(
        expect.arrayContaining([{ slot_name: newHost.slot, slot_type: 'physical', active: true }]),
      );
      expect(after.slots[lab.hosts[0].name]).toHaveLength(before.slots[lab.hosts[0].name]!.length + 1);
    }
  } catch (err) {
    process.stdout.write(`\nstate-db-outage failed:\n${await diag()}\n`);
    throw err;
  } finally {
    await dropBallast(lab).catch(() => undefined);
  }
}, 480_000);
