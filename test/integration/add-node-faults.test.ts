import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealPlan, type SealedPlan, type Step } from '../../src/core/plan';
import type { JournalEvent, Run } from '../../src/core/run';
import { runPlanUnattended } from './support/unattended';
import type { Notifier } from '../../src/ports/notifier';
import type { RunStore } from '../../src/ports/run-store';
import { prepareAddNodeRun } from './support/prepare-add-node-run';
import { createRunStore } from '../../src/store/create-run-store';
import { keepStoreArtifacts } from '../support/store-artifacts';
import { labDown } from '../../lab/lab-down';
import { labLayout } from '../../lab/lab-layout';
import { comparable, snapshotLab, type LabSnapshot } from './support/cluster-snapshot';
import { startPrivateLab, type PrivateLab } from './support/private-lab';

// Fault injection on a private lab (base 40: primary srv41, standby srv42, new host srv43). For each
// mutating step of the add-node plan, a read-only step that always fails is put right after it; the
// run rolls back by policy, and the lab must then be exactly as before (support/cluster-snapshot).
// One more case fails inside a step: the new node's port is taken after preflight, so `start` fails.

/** The plan's mutating steps on this lab, in order; a test below checks the plan still has exactly these. */
const MUTATING = [
  'hba-srv41',
  'reload-srv41',
  'hba-srv42',
  'reload-srv42',
  'slot-srv41',
  'datadir',
  'basebackup',
  'standby-signal',
  'standby-conninfo',
  'node-conf',
  'start',
  'ha-srv41',
  'ha-srv42',
  'ha-srv43',
  'pool-conf-srv41',
  'pool-reload-srv41',
  'pool-attach',
  'marker',
  'drop-marker',
] as const;

const FAULT_ID = 'injected-fault';
let pl: PrivateLab | undefined;
let store: RunStore | undefined;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kbops-faults-'));
  await chmod(work, 0o755); // the injected step (as the lab's OS user) looks for its release file here
  pl = await startPrivateLab(40, 'faults');
  store = await createRunStore({ dataDir: join(work, 'store') });
}, 180_000);

afterAll(async () => {
  if (store) await keepStoreArtifacts(store, 'add-node-faults');
  await store?.close();
  if (pl) await pl.stop();
  else {
    // startPrivateLab failed part-way: remove what it made (same place as it uses).
    const lab = labLayout({ root: `/var/tmp/kbops-lab-faults-${process.pid}`, base: 40 });
    if (existsSync(lab.root)) await labDown(lab, () => undefined);
  }
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

const lab = () => pl!.lab;
const newHost = () => lab().hosts[2];

async function freshPlan(): Promise<SealedPlan> {
  const r = await prepareAddNodeRun(
    { cluster: 'lab', host: newHost().address },
    { inventory: pl!.inventory, requester: 'faults-test' },
  );
  if (!r.ok) throw new Error(`prepareAddNodeRun: ${r.failure.message}`);
  // Preflight must pass: the previous case's rollback left the lab clean.
  expect(r.preflight.filter((c) => c.status === 'fail')).toEqual([]);
  return r.plan!;
}

/** The plan with a read-only step after `afterId` that waits until `release` exists, then fails. */
function withFault(plan: SealedPlan, afterId: string, release: string): { plan: SealedPlan; fault: Step } {
  const i = plan.steps.findIndex((s) => s.id === afterId);
  if (i < 0) throw new Error(`no step ${afterId} in the plan`);
  const fault: Step = {
    id: FAULT_ID,
    title: `injected fault after ${afterId}`,
    target: plan.steps[i]!.target,
    action: {
      kind: 'ssh',
      // Bounded (about a minute), so it cannot outlive the test if never released.
      argv: [
        'sh',
        '-c',
        'i=0; until [ -e "$1" ] || [ $i -ge 1200 ]; do sleep 0.05; i=$((i+1)); done; exit 1',
        'sh',
        release,
      ],
    },
    timeoutMs: 60_000,
    mutates: false,
    undo: null,
  };
  const { hash: _hash, ...rest } = plan;
  return {
    plan: sealPlan({ ...rest, steps: [...plan.steps.slice(0, i + 1), fault, ...plan.steps.slice(i + 1)] }),
    fault,
  };
}

async function execute(plan: SealedPlan, notifier: Notifier): Promise<{ run: Run; journal: JournalEvent[] }> {
  const r = await runPlanUnattended(plan, {
    store: store!,
    inventory: pl!.inventory,
    notifier,
    owner: 'faults-test',
    rollbackOnFailure: true,
  });
  if (!r.ok) throw new Error(`runPlanUnattended: ${r.failure.message}`);
  const journal = (await store!.events({ runId: r.run.id })).map((e) => e.event);
  return { run: r.run, journal };
}

const transitions = (journal: JournalEvent[]) =>
  journal.flatMap((e) => (e.type === 'state' ? [{ to: e.to, reason: e.reason }] : []));
const started = (journal: JournalEvent[], phase: 'do' | 'undo') =>
  journal.flatMap((e) => (e.type === 'step-started' && e.phase === phase ? [e.stepId] : []));
const failedUndos = (journal: JournalEvent[]) =>
  journal.filter((e) => e.type === 'step-finished' && e.phase === 'undo' && !e.outcome.ok);

/** The mutating steps of `plan` up to and including `lastId`, newest first: what a rollback undoes. */
const undoneUpTo = (plan: SealedPlan, lastId: string): string[] => {
  const steps = plan.steps.slice(0, plan.steps.findIndex((s) => s.id === lastId) + 1);
  return steps
    .filter((s) => s.mutates)
    .map((s) => s.id)
    .reverse();
};

function expectLabAsBefore(before: LabSnapshot, after: LabSnapshot): void {
  expect(comparable(after)).toEqual(comparable(before));
  // A backend pgpool can only forget on restart may stay in memory, but down (no queries reach it).
  const live = after.strayPoolNodes.filter((n) => n.status !== 'down' || n.hostname !== newHost().address);
  expect(live).toEqual([]);
}

it('lists exactly the mutating steps of the plan', async () => {
  const plan = await freshPlan();
  expect(plan.steps.filter((s) => s.mutates).map((s) => s.id)).toEqual(MUTATING);
});

it.each(MUTATING)('a failure right after %s is rolled back to the exact start', async (stepId) => {
  const before = await snapshotLab(lab());
  const release = join(work, `release-${stepId}`);
  const { plan, fault } = withFault(await freshPlan(), stepId, release);

  // While the injected step waits, take the lab as the run left it, then let the step fail.
  let during: Promise<LabSnapshot> | undefined;
  const notifier: Notifier = {
    notify: (e) => {
      if (
        e.event.type === 'step-started' &&
        e.event.stepId === FAULT_ID &&
        e.event.phase === 'do' &&
        !during
      ) {
        during = snapshotLab(lab()).finally(() => writeFile(release, ''));
        during.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
      }
    },
  };
  const { run, journal } = await execute(plan, notifier);

  expect(run.state).toBe('rolled_back');
  // The run got as far as the injected step, and that is what failed.
  expect(started(journal, 'do')).toEqual(plan.steps.slice(0, plan.steps.indexOf(fault) + 1).map((s) => s.id));
  expect(transitions(journal).filter((t) => t.to === 'failed')).toEqual([
    { to: 'failed', reason: expect.stringContaining(`(${fault.title}) failed`) },
  ]);
  // Every mutating step up to the fault was undone, newest first, and every undo worked.
  expect(started(journal, 'undo')).toEqual(undoneUpTo(plan, stepId));
  expect(failedUndos(journal)).toEqual([]);
  // The steps had changed the lab (the snapshot sees it), and the rollback put everything back.
  expect(during).toBeDefined();
  expect(comparable(await during!)).not.toEqual(comparable(before));
  expectLabAsBefore(before, await snapshotLab(lab()));
});

it('a step that fails part-way (start, its port taken after the re-check) is rolled back to the exact start', async () => {
  const before = await snapshotLab(lab());
  const plan = await freshPlan();
  const start = plan.steps.find((s) => s.id === 'start')!;
  // The server's own log is in the data directory, which the rollback removes: read it when the
  // step has failed, before any undo (notify is synchronous, the executor waits for it).
  const serverLog = join(newHost().dataDir, 'sys_log');
  let logAtFailure = '';
  // Taken once the run is past its re-check (which would refuse to start with the port taken) and
  // a few steps before `start`, so the failure happens inside the step.
  const squatter: Server = createServer();
  let listening: Promise<void> | undefined;
  const notifier: Notifier = {
    notify: (e) => {
      if (e.event.type === 'step-started' && e.event.stepId === 'standby-signal' && !listening) {
        listening = new Promise<void>((resolve, reject) => {
          squatter.once('error', reject);
          squatter.listen(lab().sqlPort, newHost().address, resolve);
        });
      }
      if (e.event.type === 'step-finished' && e.event.stepId === 'start' && e.event.phase === 'do') {
        logAtFailure = existsSync(serverLog)
          ? readdirSync(serverLog)
              .map((f) => readFileSync(join(serverLog, f), 'utf8'))
              .join('')
          : '(no sys_log directory)';
      }
    },
  };
  let result: Awaited<ReturnType<typeof execute>>;
  try {
    result = await execute(plan, notifier);
    await listening;
  } finally {
    if (listening) await new Promise<void>((resolve) => squatter.close(() => resolve()));
  }
  const { run, journal } = result;

  expect(run.state).toBe('rolled_back');
  expect(started(journal, 'do')).toEqual(plan.steps.slice(0, plan.steps.indexOf(start) + 1).map((s) => s.id));
  expect(transitions(journal).filter((t) => t.to === 'failed')).toEqual([
    { to: 'failed', reason: expect.stringContaining(`(${start.title}) failed`) },
  ]);
  // It failed for the reason staged here: the server could not bind its address.
  expect(logAtFailure).toMatch(/could not bind .*127\.0\.0\.43.*Address already in use/);
  // The failed step itself is undone too (it may have changed something before failing).
  expect(started(journal, 'undo')).toEqual(undoneUpTo(plan, 'start'));
  expect(failedUndos(journal)).toEqual([]);
  expectLabAsBefore(before, await snapshotLab(lab()));
});
