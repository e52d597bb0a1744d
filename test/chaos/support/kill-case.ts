import { comparable, snapshotLab, type LabSnapshot } from '../../integration/support/cluster-snapshot';
import { poolNodes, sqlOn } from '../../integration/support/lab-tools';
import { addBallast, dropBallast } from './ballast';
import { caseStore, freshPlan, labOf, newHostOf, serviceOn, type Lane } from './kill-lane';
import { isRunning, leftoverProcesses } from './leftover-processes';
import { failedUndos, runReport, startedIds, undoneFrom } from './run-journal';
import { waitUntil } from './wait-until';
import { spawnWorker, waitExit, type WorkerProcess } from './worker-process';

// One case of kill-every-step: run add-node in a worker process, SIGKILL it at a chosen point,
// let a fresh worker find the run interrupted, resume or roll back, and check the lab.

const LEASE_MS = 5_000;
const BALLAST_MB = Number(process.env.KBOPS_CHAOS_BALLAST_MB ?? 200);

export interface KillCase {
  readonly name: string;
  /** Passed to the worker as KBOPS_TEST_KILL_AT. */
  readonly killAt: string;
  /** The step in flight at the kill. */
  readonly index: number;
  readonly then: 'resume' | 'rollback';
  readonly ballast: boolean;
}

export interface CaseRow {
  readonly lab: number;
  readonly name: string;
  readonly then: string;
  readonly outcome: string;
  readonly seconds: number;
  /** Seconds per phase, to see where a slow case spends its time. */
  readonly laps?: string;
  readonly error?: string;
}

export interface CaseContext {
  readonly pgUrl: string;
}

export async function runKillCase(
  ctx: CaseContext,
  lane: Lane,
  c: KillCase,
): Promise<Omit<CaseRow, 'lab' | 'name' | 'then' | 'seconds' | 'error'>> {
  const lab = () => labOf(lane);
  const newHost = () => newHostOf(lane);
  const { url, store } = await caseStore(ctx.pgUrl);
  const workers: WorkerProcess[] = [];
  let runId = '';
  const t = { last: Date.now(), laps: [] as string[] };
  const lap = (what: string) => {
    t.laps.push(`${what} ${((Date.now() - t.last) / 1000).toFixed(1)}`);
    t.last = Date.now();
  };
  const diag = async () =>
    [
      runId ? await runReport(store, runId) : '(no run)',
      `pool nodes now: ${JSON.stringify(await poolNodes(lab()))}`,
      ...workers.map((w) => w.transcript()),
    ].join('\n');
  try {
    if (c.ballast) await addBallast(lab(), BALLAST_MB);
    const before = await snapshotLab(lab());
    lap('before');
    const plan = await freshPlan(lane);
    lap('plan');
    expect(plan.steps.map((s) => s.id)).toEqual(lane.planIds);
    const service = serviceOn(store, lane);
    const submitted = await service.submit(plan);
    if (!submitted.ok) throw new Error(submitted.failure.message);
    runId = submitted.run.id;
    const voted = await service.vote(runId, 'U_APPROVER', 'approve', plan.hash);
    expect(voted.ok && voted.run.state).toBe('approved');

    const worker = (killAt?: string, onLine?: (line: string) => void) => {
      const w = spawnWorker({
        storeUrl: url,
        inventoryPath: lab().inventoryPath,
        runId,
        owner: lane.owner,
        leaseMs: LEASE_MS,
        ...(killAt !== undefined && { killAt }),
        ...(onLine && { onLine }),
      });
      workers.push(w);
      return w;
    };

    // 1. The bot dies at the chosen point: the journal holds the step's start, and nothing after.
    const first = await waitExit(worker(c.killAt), 120_000);
    lap('kill');
    if (first.signal !== 'SIGKILL')
      throw new Error(`the first worker was not killed (${JSON.stringify(first)})\n${await diag()}`);
    const atKill = await store.events({ runId });
    const doneAtKill = atKill.filter((e) => e.event.type === 'step-finished' && e.event.index === c.index);
    expect({ finishedStepInFlight: doneAtKill.length }).toEqual({ finishedStepInFlight: 0 });
    if (c.killAt.startsWith('progress:')) {
      const progress = atKill.flatMap((e) =>
        e.event.type === 'step-progress' ? [e.event.percent ?? -1] : [],
      );
      // Mid-copy for real: at least one progress report, and the copy not yet complete.
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(progress[0]).toBeLessThan(100);
    }

    // Remote commands the dead worker left running (a base backup): they must be gone before the
    // next step (or undo) touches the same node, so by the time that step has finished at the latest.
    const orphans = await leftoverProcesses(lab()); // "<pid> (cwd …): <command line>"
    const pidOf = (l: string) => Number(l.split(' ')[0]);
    let aliveAfterNextStep: string[] | undefined;
    const onLine = (line: string) => {
      if (!aliveAfterNextStep && /"type":"step-finished"/.test(line))
        aliveAfterNextStep = orphans.filter((o) => isRunning(pidOf(o)));
    };

    // 2. A fresh process finds the run interrupted; the operator resumes it or rolls it back.
    const second = worker(undefined, onLine);
    await waitUntil(
      'the restarted worker to mark the run interrupted',
      async () => ((await store.getRun(runId))?.state === 'interrupted' ? true : undefined),
      LEASE_MS + 30_000,
      diag,
    );
    lap('interrupted');
    let resumeAt: number | null = null;
    if (c.then === 'resume') {
      const r = await service.resume(runId, 'U_OPS');
      if (!r.ok) throw new Error(`resume refused: ${r.failure.message}\n${await diag()}`);
      resumeAt = r.assessment.resumeAt;
    } else {
      const r = await service.rollback(runId, 'U_OPS');
      if (!r.ok) throw new Error(`rollback refused: ${r.failure.message}\n${await diag()}`);
    }
    const end = await waitExit(second, 180_000);
    lap(c.then);
    const run = (await store.getRun(runId))!;
    const events = await store.events({ runId });
    const want = c.then === 'resume' ? 'succeeded' : 'rolled_back';
    if (run.state !== want || end.code !== 0) {
      throw new Error(
        `run ended ${run.state} (worker exit ${JSON.stringify(end)}), expected ${want}\n${await diag()}`,
      );
    }

    // 3. Nothing left running, no orphan slot, and the lab where the promise says.
    expect({ orphansAliveAfterNextStep: aliveAfterNextStep ?? [] }).toEqual({
      orphansAliveAfterNextStep: [],
    });
    expect(await leftoverProcesses(lab())).toEqual([]);
    expect(await store.getLock('lab')).toBeUndefined();
    const after = await snapshotLab(lab());
    if (c.then === 'rollback') {
      expect(startedIds(events, 'undo')).toEqual(undoneFrom(plan, c.index));
      expect(failedUndos(events)).toEqual([]);
      expect(comparable(after)).toEqual(comparable(before));
      // pgpool keeps a detached backend it cannot forget without a restart: down, never used.
      const live = after.strayPoolNodes.filter(
        (n) => n.status !== 'down' || n.hostname !== newHost().address,
      );
      expect(live).toEqual([]);
    } else {
      expectAdded(lane, before, after);
      // Every step ran exactly once, bar the one in flight at the kill (a boundary kill re-runs it).
      const ids = plan.steps.map((s) => s.id);
      if (c.killAt.startsWith('started:')) {
        expect(resumeAt).toBe(c.index);
        expect(startedIds(events, 'do')).toEqual([...ids.slice(0, c.index + 1), ...ids.slice(c.index)]);
      } else {
        expect(startedIds(events, 'do')).toEqual([...ids.slice(0, c.index + 1), ...ids.slice(resumeAt!)]);
      }
      expect(await sqlOn(lab(), newHost(), 'select slot_name from pg_replication_slots')).toEqual([]);
    }
    lap('checks');
    const left = orphans.length > 0 ? `, ${orphans.length} orphans` : '';
    const outcome = `${run.state}${resumeAt !== null ? ` (resumed at ${resumeAt})` : ''}${left}`;
    return { outcome, laps: t.laps.join(', ') };
  } finally {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await store.close();
    if (c.ballast) await dropBallast(lab()).catch(() => undefined);
  }
}

/** After a successful resume: the new node streams from its own slot, and nothing else changed in slots. */
function expectAdded(lane: Lane, before: LabSnapshot, after: LabSnapshot): void {
  const [primary, standby, newHost] = labOf(lane).hosts;
  const slot = newHost.slot;
  expect(after.slots[primary.name]).toEqual(
    [...before.slots[primary.name]!, { slot_name: slot, slot_type: 'physical', active: true }].sort((a, b) =>
      String(a.slot_name).localeCompare(String(b.slot_name)),
    ),
  );
  expect(after.slots[standby.name]).toEqual(before.slots[standby.name]);
  expect(after.replication).toEqual(
    expect.arrayContaining([{ application_name: newHost.name, state: 'streaming' }]),
  );
  expect(after.serverRunning[newHost.name]).toBe(true);
  expect(after.poolNodes.find((n) => n.hostname === newHost.address)?.status).toBe('up');
}
