import { progressReadersOf } from '../../../src/app/compose-runs';
import { RUNBOOKS } from '../../../src/runbooks';
import { ClusterConnector } from '../../../src/adapters/cluster-connector';
import { systemClock } from '../../../src/adapters/system-clock';
import { loadInventory } from '../../../src/config/load-inventory';
import { Engine } from '../../../src/engine/engine';
import { Executor } from '../../../src/engine/executor';
import { createRunStore } from '../../../src/store/create-run-store';

// A kbops worker in its own process, so a test can SIGKILL it mid-step and start it again.
// argv: <state database url> <inventory path> <run id>. Exits once the run stops being executable.

const SETTLED = ['succeeded', 'failed', 'rolled_back', 'rollback_failed', 'cancelled'];

async function main(): Promise<void> {
  const [url, inventoryPath, runId] = process.argv.slice(2) as [string, string, string];
  const inv = await loadInventory(inventoryPath, { env: process.env });
  if (!inv.ok) throw new Error('inventory');
  const cluster = Object.values(inv.inventory.clusters)[0]!;
  const store = await createRunStore({ databaseUrl: url });
  const owner = 'crash-test-worker';
  const executor = new Executor({
    progressReaders: progressReadersOf(RUNBOOKS),
    store,
    connectorFor: () => new ClusterConnector(cluster, process.env),
    notifier: { notify: (e) => process.stdout.write(`${JSON.stringify({ id: e.id, ...e.event })}\n`) },
    clock: systemClock,
    owner,
    leaseMs: 5_000,
    pollMs: 100,
    baseApprovals: () => 1,
    autoRollback: () => false,
  });
  const engine = new Engine({
    store,
    executor,
    clock: systemClock,
    owner,
    leaseMs: 5_000,
    pollMs: 100,
    maxConcurrent: 2,
  });
  const interrupted = await engine.start();
  process.stdout.write(`${JSON.stringify({ started: true, interrupted: interrupted.map((r) => r.id) })}\n`);
  for (;;) {
    const run = await store.getRun(runId);
    if (run && SETTLED.includes(run.state) && (await engine.idle().then(() => true))) break;
    await systemClock.sleep(100);
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
