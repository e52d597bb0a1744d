import type { Run } from '../../../src/core/run';
import type { Executor } from '../../../src/engine/executor';
import type { RunStore } from '../../../src/ports/run-store';
import { FakeConnector, RecordingNotifier, type ShellHandler } from './fakes';
import { claimed as claimedIn, executorFor, planOf } from './executor-harness';
import { memoryRunStore, withOutage, type StoreOutage } from './memory-run-store';

// What a store outage does to a run in hand. The lease is 1 s and the executor polls every 20 ms, so
// the margin is 200 ms: a renewal older than 800 ms stops the run (its remote command killed) before the
// lease can expire and another replica take it; a shorter outage kills nothing.

const LEASE_MS = 1000;
const POLL_MS = 20;
const DEADLINE_MS = LEASE_MS - Math.max(2 * POLL_MS, 0.2 * LEASE_MS); // 800

const plan = planOf([
  {
    id: 'copy',
    title: 'copy the data',
    target: 'n1',
    action: { kind: 'ssh', argv: ['pg_basebackup', '-D', '/data/x'] },
    timeoutMs: 60_000,
    mutates: false,
    undo: null,
  },
]);

let raw: RunStore;
let store: RunStore;
let outage: StoreOutage;
let connector: FakeConnector;

beforeAll(async () => {
  raw = await memoryRunStore();
  ({ store, outage } = withOutage(raw));
});
afterAll(() => raw.close());
beforeEach(() => {
  connector = new FakeConnector();
  outage.down = false;
  outage.hang = false;
  outage.refused.length = 0;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Claimed on the raw store: the outage is for the executor's calls, not the test's own.
const claimed = (owner: string): Promise<Run> => claimedIn(raw, plan, 'lease', { owner, leaseMs: LEASE_MS });

const executor = (owner: string, shutdown?: AbortSignal): Executor =>
  executorFor(store, connector, new RecordingNotifier(), {
    owner,
    leaseMs: LEASE_MS,
    pollMs: POLL_MS,
    shutdown,
  });

/** A remote command that runs `ms` (or until killed); records when it was killed. */
function command(ms: number, killedAt: number[]): ShellHandler {
  return (_text, options) =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => resolve({ exitCode: 0 }), ms);
      options.signal?.addEventListener('abort', () => {
        clearTimeout(t);
        killedAt.push(performance.now());
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      });
    });
}

/** Claims a run as `owner` and starts executing it; its copy runs `copyMs` unless killed first. */
async function started(owner: string, copyMs: number, shutdown?: AbortSignal) {
  const run = await claimed(owner);
  const killedAt: number[] = [];
  connector.shellFor('n1').on(/pg_basebackup/, command(copyMs, killedAt));
  return { run, killedAt, execution: executor(owner, shutdown).execute(run) };
}

describe('executor lease under store outages', () => {
  it.each([
    ['failing', false],
    ['hanging', true],
  ])(
    'a %s store stops the step and kills its command before the lease can expire',
    async (_kind, hang) => {
      const { run, killedAt, execution: running } = await started('owner-a', 30_000);
      // With a failing store, its last journal flush fails: the execution may end in an error.
      const execution = running.catch(() => undefined);
      await sleep(150); // the step is running, the lease renewed
      outage.hang = hang;
      outage.down = true;
      const downAt = performance.now();
      while (killedAt.length === 0 && performance.now() - downAt < 3000) await sleep(5);
      expect(killedAt).toHaveLength(1);
      const after = killedAt[0]! - downAt;
      expect(after).toBeGreaterThan(DEADLINE_MS - 2 * POLL_MS - 150);
      expect(after).toBeLessThan(LEASE_MS - 50);
      // At that moment the lease still holds: no other replica may take the run yet.
      expect((await raw.interruptOrphans()).map((r) => r.id)).not.toContain(run.id);
      expect((await raw.getRun(run.id))?.state).toBe('running');
      outage.down = false;
      await execution;
      expect(killedAt).toHaveLength(1); // killed once, not again after the outage
      // Once the lease has run out, any replica marks it interrupted; nothing ran it twice.
      await sleep(LEASE_MS);
      expect((await raw.interruptOrphans()).map((r) => r.id)).toEqual([run.id]);
      expect(outage.refused.length).toBeGreaterThan(0);
    },
    15_000,
  );

  it('an outage shorter than the margin kills nothing and the run succeeds', async () => {
    const { killedAt, execution } = await started('owner-b', 1500);
    await sleep(150);
    outage.down = true;
    await sleep(DEADLINE_MS - 300); // 500 ms without a renewal
    outage.down = false;
    const done = await execution;
    expect(outage.refused).toContain('renewLease');
    expect(killedAt).toEqual([]);
    expect(done.state).toBe('succeeded');
  });

  it('a renewal the store refuses (another owner has it) stops at once', async () => {
    const { run, killedAt, execution } = await started('owner-c', 30_000);
    await sleep(100);
    const t0 = performance.now();
    // An operator-forced interrupt: the run is no longer owner-c's to execute.
    expect((await raw.applyEvent(run.id, 'interrupt', { actor: 'U_OPS' })).ok).toBe(true);
    const done = await execution;
    expect(killedAt).toHaveLength(1);
    expect(killedAt[0]! - t0).toBeLessThan(200);
    expect(done.state).toBe('running'); // its last own view; the store says interrupted
    expect((await raw.getRun(run.id))?.state).toBe('interrupted');
  });

  it('shutdown stops the step within a poll, kills its command, and leaves the run for the engine', async () => {
    const shutdown = new AbortController();
    const { run, killedAt, execution } = await started('owner-d', 30_000, shutdown.signal);
    await sleep(100);
    const t0 = performance.now();
    shutdown.abort();
    const done = await execution;
    expect(killedAt).toHaveLength(1);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(done.state).toBe('running');
    expect((await raw.getRun(run.id))?.owner).toBe('owner-d');
  });
});
