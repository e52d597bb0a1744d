import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { composeRuns, type ComposedRuns } from '../../../src/app/compose-runs';
import { newInstanceId } from '../../../src/app/instance-id';
import { readEnvOptions } from '../../../src/config/read-env-options';
import type { Inventory } from '../../../src/config/normalise-inventory';
import type { RunStore } from '../../../src/ports/run-store';
import { samplePlan } from '../core/sample-plan';
import { claimed } from '../engine/executor-harness';
import { memoryRunStore } from '../engine/memory-run-store';

// Two replicas of one instance (same KBOPS_INSTANCE_ID) on one host and one store: starting the
// second must not take the first's running run for its own from before a restart. A process of the
// instance that is gone, though, is this instance restarted: its runs are interrupted at once.

const INSTANCE = 'ops';
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
    inventory: { clusters: {}, reports: [] } as unknown as Inventory,
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

/** A run that `owner` is executing now, on a cluster of its own; its lease outlasts the test. */
const runningRun = async (owner: string): Promise<string> =>
  (await claimed(store, samplePlan(), 'c', { owner, leaseMs: 10 * 60_000 })).id;

const stateOf = async (id: string) => (await store.getRun(id))?.state;
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

test('owners are unique per process and engine, with the instance name and host in front', () => {
  const a = newInstanceId(INSTANCE);
  const b = newInstanceId(INSTANCE);
  expect(a).not.toBe(b);
  expect(a).toMatch(new RegExp(`^ops@${hostname()}/${process.pid}/[0-9a-f]+$`));
  // Unset, the instance id is readEnvOptions' default.
  const unset = readEnvOptions({});
  expect(unset.ok && newInstanceId(unset.options.KBOPS_INSTANCE_ID)).toMatch(/^kbops@/);
});

test('starting a second replica of the same instance leaves the first one running run alone', async () => {
  const first = newInstanceId(INSTANCE);
  const second = newInstanceId(INSTANCE);
  await start(first);
  const id = await runningRun(first);
  expect(await start(second)).toEqual([]);
  expect(await stateOf(id)).toBe('running');
  expect((await store.getRun(id))?.owner).toBe(first);
});

test("a restarted process interrupts its instance's runs left by a dead process, and only those", async () => {
  const gone = deadPid();
  const mine = await runningRun(`ops@${hostname()}/${gone}/0badc0de`);
  const samePidBefore = await runningRun(`ops@${hostname()}/${process.pid}/feedf00d`);
  const otherInstance = await runningRun(`billing@${hostname()}/${gone}/0badc0de`);
  const otherHost = await runningRun(`ops@elsewhere/${gone}/0badc0de`);
  const live = newInstanceId(INSTANCE);
  const liveRun = await runningRun(live);

  const interrupted = await start(newInstanceId(INSTANCE));

  expect(interrupted.map((r) => r.id).sort()).toEqual([mine, samePidBefore].sort());
  expect(await stateOf(mine)).toBe('interrupted');
  expect(await stateOf(samePidBefore)).toBe('interrupted');
  // Not provably this instance's dead process: left to their lease.
  for (const id of [otherInstance, otherHost, liveRun]) expect(await stateOf(id)).toBe('running');
});
