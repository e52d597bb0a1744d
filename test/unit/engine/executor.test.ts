import type { Step } from '../../../src/core/plan';
import type { Executor } from '../../../src/engine/executor';
import type { RunStore } from '../../../src/ports/run-store';
import { FakeConnector, RecordingNotifier } from './fakes';
import { claimed, executorFor, LEASE_MS, OWNER, planOf, sha } from './executor-harness';
import { memoryRunStore } from './memory-run-store';

const CONF = '/etc/app.conf';
const ORIGINAL = 'port = 5432\nmax_connections = 100\n';

const steps = (over: Partial<Record<string, Partial<Step>>> = {}): Step[] =>
  [
    {
      id: 'mkdir',
      title: 'make the data directory',
      target: 'n1',
      action: { kind: 'ssh', argv: ['mkdir', '-p', '/data/x'] },
      timeoutMs: 5000,
      mutates: true,
      undo: [{ kind: 'ssh', argv: ['rm', '-rf', '/data/x'] }],
      effect: {
        probe: { kind: 'ssh', argv: ['test', '-d', '/data/x'] },
        present: { kind: 'exit-code', equals: 0 },
      },
    },
    {
      id: 'conf',
      title: 'set the port',
      target: 'n1',
      action: {
        kind: 'file-edit',
        path: CONF,
        expectedSha256: sha(ORIGINAL),
        edit: { type: 'set-keys', entries: { port: '5433' } },
      },
      timeoutMs: 5000,
      mutates: true,
      undo: [{ kind: 'file-restore', path: CONF, editStepId: 'conf' }],
      effect: {
        probe: { kind: 'file', path: CONF },
        present: { kind: 'not', of: { kind: 'file-sha', sha256: sha(ORIGINAL) } },
      },
    },
    {
      id: 'slot',
      title: 'create the slot',
      target: 'n1',
      action: { kind: 'sql', sql: 'select pg_create_physical_replication_slot($1)', params: ['slot_x'] },
      timeoutMs: 5000,
      mutates: true,
      undo: [{ kind: 'sql', sql: 'select pg_drop_replication_slot($1)', params: ['slot_x'] }],
      effect: {
        probe: {
          kind: 'sql',
          sql: 'select 1 from pg_replication_slots where slot_name = $1',
          params: ['slot_x'],
        },
        present: { kind: 'row-count', min: 1 },
      },
    },
    {
      id: 'check',
      title: 'check the slot',
      target: 'n1',
      action: {
        kind: 'verify',
        probe: { kind: 'sql', sql: 'select slot_name from pg_replication_slots', params: [] },
        expect: { kind: 'row-count', min: 1 },
      },
      timeoutMs: 5000,
      mutates: false,
      undo: null,
    },
  ].map((s) => ({ ...s, ...(over[s.id] ?? {}) }) as Step);

const plan = (s: Step[] = steps()) => planOf(s);

let store: RunStore;
let connector: FakeConnector;
let notifier: RecordingNotifier;

beforeAll(async () => {
  store = await memoryRunStore();
});
afterAll(() => store.close());

beforeEach(() => {
  connector = new FakeConnector();
  notifier = new RecordingNotifier();
  connector.filesFor('n1').files.set(CONF, { content: Buffer.from(ORIGINAL), mode: 0o600 });
  connector.sqlAnswer = (sql) => (sql.includes('from pg_replication_slots') ? [{ slot_name: 'slot_x' }] : []);
});

const executor = (autoRollback = false, runStore: RunStore = store): Executor =>
  executorFor(runStore, connector, notifier, { autoRollback });

const shellCalls = () => connector.shellFor('n1').calls;
const sqlCalls = () => connector.sqls.get('n1')?.calls.map((c) => c.sql) ?? [];
const confText = () => connector.filesFor('n1').files.get(CONF)?.content.toString();

describe('executor', () => {
  it('runs every step in order and succeeds', async () => {
    const run = await claimed(store, plan());
    const done = await executor().execute(run);
    expect(done.state).toBe('succeeded');
    expect(shellCalls()).toEqual(["'mkdir' '-p' '/data/x'"]);
    expect(confText()).toBe('port = 5433\nmax_connections = 100\n');
    expect(sqlCalls()).toEqual([
      'select pg_create_physical_replication_slot($1)',
      'select slot_name from pg_replication_slots',
    ]);
    expect(await store.getLock(done.cluster)).toBeUndefined();
  });

  it('journals every event before any notifier hears of it, and notifies all of them in order', async () => {
    const run = await claimed(store, plan());
    await executor().execute(run);
    const journal = await store.events({ runId: run.id });
    const fromClaim = journal.slice(
      journal.findIndex((e) => e.event.type === 'state' && e.event.to === 'running'),
    );
    expect(notifier.events.map((e) => e.id)).toEqual(fromClaim.map((e) => e.id));
    expect(notifier.events.map((e) => e.event.type)).toEqual([
      'state',
      ...Array<string[]>(4).fill(['step-started', 'step-finished']).flat(),
      'state',
      'lock', // released with the final state
    ]);
    expect(notifier.events.filter((e) => e.event.type === 'step-finished')).toHaveLength(4);
    expect(notifier.events.at(-2)?.event).toMatchObject({ type: 'state', to: 'succeeded' });
  });

  it('tells nobody about an event the journal could not record', async () => {
    const run = await claimed(store, plan());
    const failing: RunStore = Object.create(store) as RunStore;
    failing.append = async (entry) => {
      if (entry.event.type === 'step-started' && entry.event.stepId === 'conf') throw new Error('disk full');
      return store.append(entry);
    };
    const ex = executor(false, failing);
    await expect(ex.execute(run)).rejects.toThrow('disk full');
    const told = notifier.events.map(
      (e) => `${e.event.type}:${(e.event as { stepId?: string }).stepId ?? ''}`,
    );
    expect(told).toEqual(['state:', 'step-started:mkdir', 'step-finished:mkdir']);
    expect(confText()).toBe(ORIGINAL); // and the step whose start was not recorded never ran
  });

  it('fails a step that exceeds its timeout and kills the remote command', async () => {
    const run = await claimed(store, plan(steps({ mkdir: { timeoutMs: 150 } })));
    connector.shellFor('n1').on(/mkdir/, connector.shellFor('n1').hang());
    const done = await executor().execute(run);
    expect(done.state).toBe('failed');
    expect(connector.shellFor('n1').killed).toEqual(["'mkdir' '-p' '/data/x'"]);
    const finished = (await store.events({ runId: run.id })).find((e) => e.event.type === 'step-finished');
    expect(finished?.event).toMatchObject({ outcome: { ok: false, failure: { code: 'timeout' } } });
    expect(done.undoNext).toBe(0); // the timed-out step may have done something: its undo is due
    expect(await store.getLock(done.cluster)).toMatchObject({ runId: run.id });
  });

  it('on failure, undoes the completed mutating steps newest first and leaves the files as they were', async () => {
    const run = await claimed(store, plan());
    connector.sqlAnswer = (sql) => {
      if (sql.includes('create_physical')) throw new Error('all replication slots are in use');
      return [];
    };
    const done = await executor(true).execute(run);
    expect(done.state).toBe('rolled_back');
    // slot (failed, included: it may have half-happened) → conf → mkdir
    expect(sqlCalls()).toEqual([
      'select pg_create_physical_replication_slot($1)',
      'select pg_drop_replication_slot($1)',
    ]);
    expect(shellCalls()).toEqual(["'mkdir' '-p' '/data/x'", "'rm' '-rf' '/data/x'"]);
    expect(confText()).toBe(ORIGINAL);
    expect(connector.filesFor('n1').files.get(CONF)?.mode).toBe(0o600);
    expect([...connector.filesFor('n1').files.keys()]).toEqual([CONF]); // the backup is gone too
    const undone = (await store.events({ runId: run.id }))
      .filter((e) => e.event.type === 'step-started' && e.event.phase === 'undo')
      .map((e) => (e.event as { stepId: string }).stepId);
    expect(undone).toEqual(['slot', 'conf', 'mkdir']);
    expect(await store.getLock(done.cluster)).toBeUndefined();
  });

  it('without auto-rollback, a failure waits for a decision and keeps the lock', async () => {
    const run = await claimed(store, plan());
    connector
      .shellFor('n1')
      .on(/mkdir/, () => ({ exitCode: 1, stderr: 'mkdir: cannot create directory: Permission denied\n' }));
    const done = await executor(false).execute(run);
    expect(done.state).toBe('failed');
    const failed = (await store.events({ runId: run.id })).find(
      (e) => e.event.type === 'state' && e.event.to === 'failed',
    );
    expect(failed?.event).toMatchObject({
      reason:
        'step 1 (make the data directory) failed: mkdir exited with 1: mkdir: cannot create directory: Permission denied',
    });
    expect(await store.getLock(done.cluster)).toMatchObject({ runId: run.id });
  });

  it('reports an undo that fails, stops there, and a later rollback resumes at that step', async () => {
    const run = await claimed(store, plan());
    connector.sqlAnswer = (sql) => {
      if (sql.includes('create_physical')) throw new Error('boom');
      return [];
    };
    connector.shellFor('n1').on(/'rm'/, () => ({ exitCode: 1, stderr: 'rm: Device or resource busy\n' }));
    const done = await executor(true).execute(run);
    expect(done.state).toBe('rollback_failed');
    expect(done.undoNext).toBe(0);
    const reason = (await store.events({ runId: run.id })).find(
      (e) => e.event.type === 'state' && e.event.to === 'rollback_failed',
    );
    expect(reason?.event).toMatchObject({
      reason: expect.stringContaining('undo of step 1 (make the data directory) failed: rm exited with 1'),
    });
    expect(confText()).toBe(ORIGINAL); // the undos before it did happen

    connector.shellFor('n1').on(/'rm'/, () => ({ exitCode: 0 }));
    const again = await store.applyEvent(run.id, 'rollback', { actor: 'U_OPS' });
    expect(again.ok).toBe(true);
    const reclaimed = await store.claimNext(OWNER, LEASE_MS);
    const finished = await executor(true).execute(reclaimed!);
    expect(finished.state).toBe('rolled_back');
    expect(shellCalls().filter((c) => c.startsWith("'rm'"))).toHaveLength(2);
  });

  it('cancel mid-step kills the remote command and stops at that step', async () => {
    const run = await claimed(store, plan());
    const shell = connector.shellFor('n1');
    shell.on(/mkdir/, shell.hang());
    const execution = executor().execute(run);
    await new Promise((r) => setTimeout(r, 100));
    await store.requestCancel(run.id, 'U_OPS');
    const done = await execution;
    expect(done.state).toBe('cancelled');
    expect(shell.killed).toEqual(["'mkdir' '-p' '/data/x'"]);
    expect(sqlCalls()).toEqual([]); // nothing after the cancelled step ran
    expect(confText()).toBe(ORIGINAL);
    expect(await store.getLock(done.cluster)).toMatchObject({ runId: run.id }); // mkdir may have half-run
  });

  it('pauses before a step that needs more approvals than the run has', async () => {
    const run = await claimed(store, plan(steps({ slot: { approvals: 2 } })));
    const done = await executor().execute(run);
    expect(done.state).toBe('awaiting_approval');
    expect(done.nextStep).toBe(2);
    expect(sqlCalls()).toEqual([]);
  });
});
