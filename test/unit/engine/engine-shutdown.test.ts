import { systemClock } from '../../../src/adapters/system-clock';
import { Engine } from '../../../src/engine/engine';
import type { RunStore } from '../../../src/ports/run-store';
import { FakeConnector, RecordingNotifier, type ShellHandler } from './fakes';
import { approved, executorFor, LEASE_MS, planOf } from './executor-harness';
import { memoryRunStore } from './memory-run-store';

// SIGTERM: the engine stops claiming, stops the runs in hand at their current step (the remote
// command killed), hands them back as interrupted, and resolves within its grace period.

const OWNER = 'kbops@test/1';
const POLL_MS = 20;

let store: RunStore;
let connector: FakeConnector;

beforeAll(async () => {
  store = await memoryRunStore();
});
afterAll(() => store.close());
beforeEach(() => {
  connector = new FakeConnector();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const plan = planOf(
  ['one', 'two'].map((id) => ({
    id,
    title: `copy ${id}`,
    target: 'n1',
    action: { kind: 'ssh' as const, argv: ['copy', id] },
    timeoutMs: 60_000,
    mutates: false,
    undo: null,
  })),
);

const approvedRun = async (): Promise<string> => (await approved(store, plan, 'shut')).id;

function engine(withSignal = true): Engine {
  const shutdown = new AbortController();
  const executor = executorFor(store, connector, new RecordingNotifier(), {
    owner: OWNER,
    pollMs: POLL_MS,
    ...(withSignal && { shutdown: shutdown.signal }),
  });
  return new Engine({
    store,
    executor,
    clock: systemClock,
    owner: OWNER,
    leaseMs: LEASE_MS,
    pollMs: POLL_MS,
    maxConcurrent: 4,
    ...(withSignal && { shutdown }),
  });
}

async function until(ok: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(10);
  }
}

describe('Engine.shutdown', () => {
  it('stops the step in hand, kills its command, hands the run back as interrupted, and claims no more', async () => {
    const id = await approvedRun();
    const shell = connector.shellFor('n1');
    shell.on(/'copy' 'one'/, shell.hang());
    const e = engine();
    await e.start();
    await until(() => shell.calls.length === 1);
    const t0 = Date.now();
    const r = await e.shutdown(5000);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r).toEqual({ stillRunning: 0 });
    expect(shell.killed).toEqual(["'copy' 'one'"]);
    expect(shell.calls).toEqual(["'copy' 'one'"]); // stopped at that step: step two never ran
    const run = await store.getRun(id);
    expect(run).toMatchObject({ state: 'interrupted', owner: null, nextStep: 0 });
    const last = (await store.events({ runId: id })).filter((e) => e.event.type === 'state').at(-1);
    expect(last?.event).toMatchObject({
      to: 'interrupted',
      reason: expect.stringContaining('stopped by shutdown'),
    });

    const later = await approvedRun();
    await sleep(10 * POLL_MS);
    expect((await store.getRun(later))?.state).toBe('approved'); // nobody claimed it
    await store.applyEvent(later, 'cancel', { actor: 'U_OPS' });
  });

  it('resolves within its grace period even when a step will not stop, and says so', async () => {
    await approvedRun();
    const shell = connector.shellFor('n1');
    let release = (): void => undefined;
    // Ignores the abort (a command whose kill cannot be confirmed); released at the end of the test.
    const stuck: ShellHandler = () => new Promise((r) => (release = () => r({ exitCode: 0 })));
    shell.on(/'copy' 'one'/, stuck);
    const e = engine();
    await e.start();
    await until(() => shell.calls.length === 1);
    const t0 = Date.now();
    expect(await e.shutdown(300)).toEqual({ stillRunning: 1 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(Date.now() - t0).toBeLessThan(800);
    release();
    await e.idle();
  });

  it('leaves alone a run that ended before shutdown', async () => {
    const id = await approvedRun();
    const e = engine();
    await e.start();
    await until(() => connector.shellFor('n1').calls.length === 2);
    await e.idle();
    await e.shutdown(1000);
    expect((await store.getRun(id))?.state).toBe('succeeded');
  });
});
