import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { composeRuns, type ComposedRuns } from '../../../src/app/compose-runs';
import { newInstanceId } from '../../../src/app/instance-id';
import type { Inventory } from '../../../src/config/normalise-inventory';
import { sealPlan } from '../../../src/core/plan';
import type { RunStore } from '../../../src/ports/run-store';
import { samplePlan } from '../core/sample-plan';
import { memoryRunStore } from '../engine/memory-run-store';

// Two replicas of one instance (same KBOPS_INSTANCE_ID) on one host and one store: starting the
// second must not take the first's running run for its own from before a restart. A process of the
// instance that is gone, though, is this instance restarted: its runs are interrupted at once.

const INSTANCE = { KBOPS_INSTANCE_ID: 'ops' };
let store: RunStore;
const started: ComposedRuns[] = [];

beforeEach(async () => {
  store = await memoryRunStore();
});
afterEach(async () => {
  for (const r of started.splice(0)) await r.engine.stop();
  await store.close();
});

const compose = (owner: string) =>
  composeRuns({
    inventory: { clusters: {} } as unknown as Inventory,
    env: {},
    store,
    groupsOf: () => [],
    surface: () => {
      throw new Error('no surface in this test');
    },
    owner,
    onError: (what, err) => {
      throw new Error(`${what}: ${String(err)}`);
    },
  });

async function start(owner: string) {
  const runs = compose(owner);
  started.push(runs);
  return runs.start();
}

/** A run that `owner` is executing now (claimed with a lease, as its worker would). */
async function runningRun(cluster: string, owner: string): Promise<string> {
  const plan = sealPlan({ ...samplePlan(), cluster });
  const created = await store.createRun({ id: `run-${cluster}`, plan, expiresAt: null });
  if (!created.ok) throw new Error('locked');
  await store.recordApproval({
    runId: created.run.id,
    userId: 'U1',
    planHash: plan.hash,
    decision: 'approve',
  });
  const approved = await store.applyEvent(created.run.id, 'approve', { actor: 'U1' });
  if (!approved.ok) throw new Error(approved.reason);
  const claimed = await store.claimNext(owner, 10 * 60_000);
  if (claimed?.id !== created.run.id) throw new Error('not claimed');
  return claimed.id;
}

const stateOf = async (id: string) => (await store.getRun(id))?.state;
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

test('owners are unique per process and engine, with the instance name and host in front', () => {
  const a = newInstanceId(INSTANCE);
  const b = newInstanceId(INSTANCE);
  expect(a).not.toBe(b);
  expect(a).toMatch(new RegExp(`^ops@${hostname()}/${process.pid}/[0-9a-f]+$`));
  expect(newInstanceId({})).toMatch(/^kbops@/);
});

test('starting a second replica of the same instance leaves the first one running run alone', async () => {
  const first = newInstanceId(INSTANCE);
  const second = newInstanceId(INSTANCE);
  await start(first);
  const id = await runningRun('c1', first);
  expect(await start(second)).toEqual([]);
  expect(await stateOf(id)).toBe('running');
  expect((await store.getRun(id))?.owner).toBe(first);
});

test("a restarted process interrupts its instance's runs left by a dead process, and only those", async () => {
  const gone = deadPid();
  const mine = await runningRun('c1', `ops@${hostname()}/${gone}/0badc0de`);
  const samePidBefore = await runningRun('c2', `ops@${hostname()}/${process.pid}/feedf00d`);
  const otherInstance = await runningRun('c3', `billing@${hostname()}/${gone}/0badc0de`);
  const otherHost = await runningRun('c4', `ops@elsewhere/${gone}/0badc0de`);
  const live = newInstanceId(INSTANCE);
  const liveRun = await runningRun('c5', live);

  const interrupted = await start(newInstanceId(INSTANCE));

  expect(interrupted.map((r) => r.id).sort()).toEqual([mine, samePidBefore].sort());
  expect(await stateOf(mine)).toBe('interrupted');
  expect(await stateOf(samePidBefore)).toBe('interrupted');
  // Not provably this instance's dead process: left to their lease.
  for (const id of [otherInstance, otherHost, liveRun]) expect(await stateOf(id)).toBe('running');
});
