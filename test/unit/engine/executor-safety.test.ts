import type { Guard, Step } from '../../../src/core/plan';
import { guardsInForce } from '../../../src/engine/check-guards';
import type { RunStore } from '../../../src/ports/run-store';
import { FakeConnector, RecordingNotifier } from './fakes';
import { claimed, executorFor, planOf, sha } from './executor-harness';
import { memoryRunStore } from './memory-run-store';

// Issue 8's promises inside the executor: the facts a plan stands on are read again before the
// first change; an undo runs only for what a step is known to have done and only while its proof
// holds; long copies fail on a stall, not on a clock.

const CONF = '/etc/app.conf';
const BACKUP = '/var/kbops/k-conf.bak';
const ORIGINAL = 'port = 5432\n';

const mkdir: Step = {
  id: 'mkdir',
  title: 'make the directory',
  target: 'n1',
  action: { kind: 'ssh', argv: ['mkdir', '/data/x'], refusedExitCodes: [86] },
  timeoutMs: 5000,
  mutates: true,
  undo: [{ kind: 'ssh', argv: ['rmdir', '/data/x'] }],
  effect: {
    probe: { kind: 'ssh', argv: ['test', '-d', '/data/x'] },
    present: { kind: 'exit-code', equals: 0 },
  },
};
const conf: Step = {
  id: 'conf',
  title: 'set the port',
  target: 'n1',
  action: {
    kind: 'file-edit',
    path: CONF,
    expectedSha256: sha(ORIGINAL),
    backup: BACKUP,
    edit: { type: 'set-keys', entries: { port: '5433' } },
  },
  timeoutMs: 5000,
  mutates: true,
  undo: [{ kind: 'file-restore', path: CONF, editStepId: 'conf' }],
  effect: {
    probe: { kind: 'file', path: CONF },
    present: { kind: 'not', of: { kind: 'file-sha', sha256: sha(ORIGINAL) } },
  },
};
const copy = (over: Partial<Step> = {}): Step => ({
  id: 'copy',
  title: 'copy the data',
  target: 'n1',
  action: { kind: 'ssh', argv: ['copy-it'], progress: { kind: 'basebackup' }, refusedExitCodes: [86] },
  timeoutMs: 5000,
  mutates: true,
  undo: [{ kind: 'ssh', argv: ['uncopy-it'] }],
  effect: {
    probe: { kind: 'ssh', argv: ['test', '-f', '/data/x/PG_VERSION'] },
    present: { kind: 'exit-code', equals: 0 },
  },
  ...over,
});
const dirAbsent: Guard = {
  name: 'the directory does not exist',
  target: 'n1',
  probe: { kind: 'ssh', argv: ['test', '-e', '/data/x'] },
  expect: { kind: 'exit-code', equals: 1 },
  until: 'mkdir',
};

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
  connector.filesFor('n1').files.set(CONF, { content: Buffer.from(ORIGINAL), mode: 0o640 });
});

const shellCalls = () => connector.shellFor('n1').calls;
const stepsStarted = async (runId: string) =>
  (await store.events({ runId })).filter((e) => e.event.type === 'step-started');
const progressLine = (pct: number) => `${pct * 10}/1000 kB (${pct}%), 0/1 tablespace`;

describe('re-check before the first change', () => {
  it('ends the run failed, before any step, when a fact the plan stands on changed', async () => {
    connector.shellFor('n1').on(/'test' '-e'/, () => ({ exitCode: 0 })); // someone made the directory
    const run = await claimed(store, planOf([mkdir, conf], [dirAbsent]));
    const done = await executorFor(store, connector, notifier, { autoRollback: true }).execute(run);
    expect(done.state).toBe('failed');
    expect(await stepsStarted(run.id)).toEqual([]);
    expect(shellCalls().filter((c) => /mkdir|rmdir/.test(c))).toEqual([]);
    const failed = (await store.events({ runId: run.id })).find(
      (e) => e.event.type === 'state' && e.event.to === 'failed',
    );
    expect(failed?.event).toMatchObject({
      reason: expect.stringMatching(
        /^the cluster changed since this plan was made: the directory does not exist \(on n1: .*\)\. Nothing was changed now; make a new plan$/,
      ),
    });
    // Nothing was changed, so the cluster is free for a new plan.
    expect(await store.getLock(run.cluster)).toBeUndefined();
    expect(connector.filesFor('n1').files.get(CONF)?.content.toString()).toBe(ORIGINAL);
  });

  it('counts a fact it cannot read as changed (unknown is never a pass)', async () => {
    connector.shellFor('n1').on(/'test' '-e'/, () => {
      throw new Error('connection reset');
    });
    const run = await claimed(store, planOf([mkdir], [dirAbsent]));
    const done = await executorFor(store, connector, notifier).execute(run);
    expect(done.state).toBe('failed');
    const reasons = (await store.events({ runId: run.id })).map((e) =>
      'reason' in e.event ? e.event.reason : '',
    );
    expect(reasons.join('\n')).toContain('could not be read: connection reset');
  });

  it('runs when every fact still holds, and skips a fact its own completed step changed', async () => {
    connector.shellFor('n1').on(/'test' '-e'/, () => ({ exitCode: 1 }));
    const run = await claimed(store, planOf([mkdir, conf], [dirAbsent]));
    expect((await executorFor(store, connector, notifier).execute(run)).state).toBe('succeeded');
    const p = planOf([mkdir, conf], [dirAbsent]);
    expect(guardsInForce(p, 0)).toEqual([dirAbsent]);
    expect(guardsInForce(p, 1)).toEqual([]); // a resume after mkdir: the directory is the run's own
  });

  it('refuses a plan that no longer matches the hash it was approved with', async () => {
    const run = await claimed(store, planOf([mkdir]));
    const tampered = {
      ...run,
      plan: {
        ...run.plan,
        steps: [{ ...mkdir, action: { kind: 'ssh' as const, argv: ['rm', '-rf', '/'] } }],
      },
    };
    const done = await executorFor(store, connector, notifier).execute(tampered);
    expect(done.state).toBe('failed');
    expect(shellCalls()).toEqual([]);
  });
});

describe('undo only what the run made', () => {
  it('does not undo a step that refused and changed nothing; undoes the steps before it', async () => {
    connector
      .shellFor('n1')
      .on(/^'mkdir' '\/data/, () => ({ exitCode: 86, stderr: 'kbops: /data/x already exists' }));
    const run = await claimed(store, planOf([conf, mkdir]));
    const done = await executorFor(store, connector, notifier, { autoRollback: true }).execute(run);
    expect(done.state).toBe('rolled_back');
    expect(shellCalls().some((c) => c.includes('rmdir'))).toBe(false);
    expect(connector.filesFor('n1').files.get(CONF)?.content.toString()).toBe(ORIGINAL);
    const finished = (await store.events({ runId: run.id })).find(
      (e) => e.event.type === 'step-finished' && e.event.stepId === 'mkdir',
    );
    expect(finished?.event).toMatchObject({
      outcome: {
        ok: false,
        unchanged: true,
        failure: { code: 'refused', message: '/data/x already exists' },
      },
    });
  });

  it('treats a failed SQL statement as changing nothing', async () => {
    const slot: Step = {
      ...mkdir,
      id: 'slot',
      action: { kind: 'sql', sql: 'select pg_create_physical_replication_slot($1)', params: ['s'] },
      undo: [{ kind: 'sql', sql: 'select pg_drop_replication_slot($1)', params: ['s'] }],
    };
    connector.sqlAnswer = (sql) => {
      if (sql.includes('create'))
        throw Object.assign(new Error('replication slot "s" already exists'), {
          severity: 'ERROR',
          code: '42710',
        });
      return [];
    };
    const run = await claimed(store, planOf([slot]));
    const done = await executorFor(store, connector, notifier, { autoRollback: true }).execute(run);
    expect(done.state).toBe('rolled_back');
    expect(connector.sqls.get('n1')?.calls.map((c) => c.sql)).toEqual([
      'select pg_create_physical_replication_slot($1)',
    ]);
  });

  it('keeps the backup outside the file, 0600, and restores only while the file is what it wrote', async () => {
    const files = connector.filesFor('n1');
    connector.shellFor('n1').on(/^'mkdir' '\/data/, () => {
      // A colleague edits the file after kbops did, before the failure.
      files.files.set(CONF, { content: Buffer.from('port = 6000\n'), mode: 0o640 });
      return { exitCode: 1, stderr: 'boom' };
    });
    const run = await claimed(store, planOf([conf, mkdir]));
    const done = await executorFor(store, connector, notifier, { autoRollback: true }).execute(run);
    expect(files.files.get(BACKUP)).toMatchObject({ content: Buffer.from(ORIGINAL), mode: 0o600 });
    expect(files.files.get(`${BACKUP}.meta`)?.mode).toBe(0o600);
    expect(done.state).toBe('rollback_failed');
    expect(files.files.get(CONF)?.content.toString()).toBe('port = 6000\n'); // theirs, left alone
    const failed = (await store.events({ runId: run.id })).find(
      (e) => e.event.type === 'state' && e.event.to === 'rollback_failed',
    );
    expect(failed?.event).toMatchObject({ reason: expect.stringContaining('is not what this run wrote') });
  });

  it('restores the file, its mode, and removes the backup when the file is still what it wrote', async () => {
    const files = connector.filesFor('n1');
    connector.shellFor('n1').on(/^'mkdir' '\/data/, () => ({ exitCode: 1 }));
    const run = await claimed(store, planOf([conf, mkdir]));
    const done = await executorFor(store, connector, notifier, { autoRollback: true }).execute(run);
    expect(done.state).toBe('rolled_back');
    expect(files.files.get(CONF)).toMatchObject({ content: Buffer.from(ORIGINAL), mode: 0o640 });
    expect(files.files.has(BACKUP)).toBe(false);
    expect(files.files.has(`${BACKUP}.meta`)).toBe(false);
  });
});

describe('long copies are judged by progress', () => {
  it('fails a copy that stops making progress, and kills it', async () => {
    const shell = connector.shellFor('n1');
    shell.on(/copy-it/, (text, options) => {
      [10, 20].forEach((p, i) => setTimeout(() => options.onStderrLine?.(progressLine(p)), 20 * i));
      return shell.hang()(text, options);
    });
    const run = await claimed(store, planOf([copy({ stallMs: 300 })]));
    const done = await executorFor(store, connector, notifier).execute(run);
    expect(done.state).toBe('failed');
    expect(shell.killed).toHaveLength(1);
    const finished = (await store.events({ runId: run.id })).find((e) => e.event.type === 'step-finished');
    expect(finished?.event).toMatchObject({ outcome: { ok: false, failure: { code: 'stalled' } } });
  });

  it('lets a copy that keeps progressing run longer than its stall window', async () => {
    connector.shellFor('n1').on(/copy-it/, async (_text, options) => {
      for (let p = 1; p <= 12; p++) {
        await new Promise((r) => setTimeout(r, 50));
        options.onStderrLine?.(progressLine(p * 8));
      }
      return { exitCode: 0 };
    });
    const run = await claimed(store, planOf([copy({ stallMs: 200 })]));
    const started = Date.now();
    const done = await executorFor(store, connector, notifier).execute(run);
    expect(done.state).toBe('succeeded');
    expect(Date.now() - started).toBeGreaterThan(400); // twice the stall window, and never stalled
  });

  it('refuses, before starting it, a copy whose progress this kbops cannot read (nothing to undo)', async () => {
    let started = 0;
    connector.shellFor('n1').on(/copy-it/, () => {
      started += 1;
      return { exitCode: 0 };
    });
    const run = await claimed(store, planOf([copy({ stallMs: 200 })]));
    const done = await executorFor(store, connector, notifier, { progressReaders: {} }).execute(run);
    expect([done.state, started]).toEqual(['failed', 0]);
    const finished = (await store.events({ runId: run.id })).find((e) => e.event.type === 'step-finished');
    expect(finished?.event).toMatchObject({
      outcome: { ok: false, unchanged: true, failure: { code: 'unknown-progress' } },
    });
  });
});

describe('remote commands never outlive their run', () => {
  const leftover = async (runId: string, cluster: string) =>
    store.append({
      runId,
      cluster,
      actor: 'an-earlier-process',
      event: {
        type: 'remote-started',
        index: 0,
        stepId: 'mkdir',
        phase: 'do',
        target: 'n1',
        pgid: 4242,
        nonce: 'ab12cd34ef56',
      },
    });

  it('kills and checks a command an earlier claim left running before anything else runs', async () => {
    const shell = connector.shellFor('n1');
    shell.on(/'4242' 'ab12cd34ef56'$/, () => ({ exitCode: 0, stdout: 'killed\ngone\n' }));
    const run = await claimed(store, planOf([mkdir]));
    await leftover(run.id, run.cluster);
    const done = await executorFor(store, connector, notifier).execute(run);
    expect(done.state).toBe('succeeded');
    const reapAt = shellCalls().findIndex((c) => c.includes("'4242'"));
    const mkdirAt = shellCalls().findIndex((c) => c.startsWith("'mkdir'"));
    expect(reapAt).toBeGreaterThanOrEqual(0);
    expect(reapAt).toBeLessThan(mkdirAt);
    const audits = (await store.events({ runId: run.id })).filter((e) => e.event.type === 'audit');
    expect(audits.map((e) => e.event)).toContainEqual(
      expect.objectContaining({
        action: 'remote-reaped',
        data: { target: 'n1', pgid: 4242, stepId: 'mkdir' },
      }),
    );
  });

  it('stops before any step when the old command will not die', async () => {
    connector
      .shellFor('n1')
      .on(/'4242' 'ab12cd34ef56'$/, () => ({ exitCode: 3, stdout: 'killed\nalive 4242 4243\n' }));
    const run = await claimed(store, planOf([mkdir]));
    await leftover(run.id, run.cluster);
    const done = await executorFor(store, connector, notifier).execute(run);
    expect(done.state).toBe('failed');
    expect(await stepsStarted(run.id)).toEqual([]);
    const reasons = (await store.events({ runId: run.id })).map((e) =>
      'reason' in e.event ? e.event.reason : '',
    );
    expect(reasons.join('\n')).toContain('a command of step 1 from before may still run on n1');
  });
});
