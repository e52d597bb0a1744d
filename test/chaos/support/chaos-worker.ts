import { progressReadersOf } from '../../../src/app/compose-runs';
import { RUNBOOKS } from '../../../src/runbooks';
import { ClusterConnector } from '../../../src/adapters/cluster-connector';
import { systemClock } from '../../../src/adapters/system-clock';
import { loadInventory } from '../../../src/config/load-inventory';
import type { StoredEvent } from '../../../src/core/run';
import { Engine } from '../../../src/engine/engine';
import { Executor } from '../../../src/engine/executor';
import { createRunStore } from '../../../src/store/create-run-store';

// A kbops worker in its own process, composed like the bot's engine (claim, execute, mark orphans
// interrupted), for tests that kill it or take its state database away. It prints every event it
// is told as one JSON line, and exits once the watched run can no longer be executed.
//
// argv: <state database url> <inventory path> <run id> <owner> <lease ms>
// KBOPS_TEST_KILL_AT (test seam, this file only): `started:<index>` SIGKILLs this process as soon as
// step <index> is journaled as started (before its action begins); `progress:<stepId>` at that
// step's first progress event. Either way the journal already holds the event: a true crash point.

const SETTLED = ['succeeded', 'failed', 'rolled_back', 'rollback_failed', 'cancelled', 'rejected', 'expired'];
/** A worker never outlives its test: it gives up after this long, or when its parent is gone. */
const DEADLINE_MS = Number(process.env.KBOPS_TEST_WORKER_DEADLINE_MS ?? 300_000);

function killerFor(spec: string | undefined): (e: StoredEvent) => void {
  if (!spec) return () => undefined;
  const [kind, arg] = spec.split(':') as [string, string];
  return (e) => {
    const ev = e.event;
    const hit =
      (kind === 'started' && ev.type === 'step-started' && ev.phase === 'do' && ev.index === Number(arg)) ||
      (kind === 'progress' && ev.type === 'step-progress' && ev.stepId === arg);
    if (hit) {
      process.stdout.write(`${JSON.stringify({ killing: spec, at: e.id })}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
  };
}

async function main(): Promise<void> {
  const [url, inventoryPath, runId, owner, lease] = process.argv.slice(2) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const leaseMs = Number(lease);
  const inv = await loadInventory(inventoryPath, { env: process.env });
  if (!inv.ok) throw new Error(`inventory ${inventoryPath} is invalid`);
  const cluster = Object.values(inv.inventory.clusters)[0]!;
  const store = await createRunStore({ databaseUrl: url });
  const kill = killerFor(process.env.KBOPS_TEST_KILL_AT);
  const say = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ owner, ...o })}\n`);
  const executor = new Executor({
    progressReaders: progressReadersOf(RUNBOOKS),
    store,
    connectorFor: () => new ClusterConnector(cluster, process.env),
    notifier: {
      notify: (e) => {
        say({ id: e.id, at: new Date().toISOString(), ...e.event });
        kill(e);
      },
    },
    clock: systemClock,
    owner,
    leaseMs,
    pollMs: 250,
    baseApprovals: () => 1,
    autoRollback: () => false,
  });
  const engine = new Engine({
    store,
    executor,
    clock: systemClock,
    owner,
    leaseMs,
    pollMs: 250,
    maxConcurrent: 2,
    onError: (err) => say({ engineError: (err as Error).message ?? String(err) }),
  });
  const interrupted = await engine.start();
  say({ started: true, pid: process.pid, interrupted: interrupted.map((r) => r.id) });
  const parent = process.ppid;
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    if (process.ppid !== parent) throw new Error('the test process is gone');
    if (Date.now() > deadline) throw new Error(`run ${runId} not settled within ${DEADLINE_MS} ms`);
    // A store outage makes this throw: keep waiting, like the bot's own loop.
    const run = await store.getRun(runId).catch((err: Error) => void say({ storeError: err.message }));
    if (run && SETTLED.includes(run.state)) {
      await engine.idle();
      break;
    }
    await systemClock.sleep(250);
  }
  await engine.stop();
  await store.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
