import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../src/adapters/system-clock';
import { ClusterConnector } from '../../src/adapters/cluster-connector';
import { sealPlan, type SealedPlan } from '../../src/core/plan';
import type { Run } from '../../src/core/run';
import { RunService } from '../../src/engine/run-service';
import type { RunStore } from '../../src/ports/run-store';
import { createRunStore } from '../../src/store/create-run-store';
import { lab, labCluster } from './support/lab-inventory';
import { startThrowawayPostgres, type ThrowawayPostgres } from './support/throwaway-postgres';

// A kbops worker is SIGKILLed in the middle of a step on a real lab host. Restarted, it finds the
// run interrupted; the operator resumes it (it finishes) or rolls it back (the host is as before).
// The test checks the files on the host, not just the run's state.

const host = lab.hosts[2];
const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const haModule = join(host.etcDir, 'HAmodule.conf');

let pg: ThrowawayPostgres;
let store: RunStore;
let service: RunService;
let haBefore: Buffer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  pg = await startThrowawayPostgres();
  store = await createRunStore({ databaseUrl: pg.url });
  const cluster = await labCluster();
  service = new RunService({
    store,
    clock: systemClock,
    policyFor: () => ({
      required: 1,
      approvers: { users: ['U_APPROVER'], groups: [] },
      allowSelfApproval: false,
      ttlMs: 3_600_000,
      autoRollback: false,
      admins: { users: [], groups: [] },
    }),
    groupsOf: () => [],
    connectorFor: () => new ClusterConnector(cluster, process.env),
  });
  haBefore = readFileSync(haModule);
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  writeFileSync(haModule, haBefore);
  await store?.close();
  await pg?.stop();
});

function crashPlan(dir: string, cluster: string): SealedPlan {
  const t = { name: host.name, host: host.address, sshPort: lab.sshPort, sqlPort: lab.sqlPort };
  return sealPlan({
    formatVersion: 1,
    runbook: { id: 'crash-test', version: 1 },
    cluster,
    dialect: 'postgresql',
    params: { dir },
    requester: 'U_REQ',
    createdAt: new Date().toISOString(),
    targets: { [host.name]: t },
    snapshot: null,
    steps: [
      {
        id: 'mkdir',
        title: 'make a directory',
        target: host.name,
        action: { kind: 'ssh', argv: ['mkdir', dir] },
        timeoutMs: 10_000,
        mutates: true,
        undo: [{ kind: 'ssh', argv: ['rm', '-rf', '--', dir] }],
        effect: {
          probe: { kind: 'ssh', argv: ['test', '-d', dir] },
          present: { kind: 'exit-code', equals: 0 },
        },
      },
      {
        id: 'write',
        title: 'write a file',
        target: host.name,
        action: {
          kind: 'file-edit',
          path: `${dir}/a.conf`,
          expectedSha256: null,
          edit: { type: 'replace', content: 'hello\n' },
        },
        timeoutMs: 10_000,
        mutates: true,
        undo: [{ kind: 'file-restore', path: `${dir}/a.conf`, editStepId: 'write' }],
        effect: {
          probe: { kind: 'file', path: `${dir}/a.conf` },
          present: { kind: 'file-sha', sha256: sha('hello\n') },
        },
      },
      {
        id: 'slow',
        title: 'wait a while (the worker is killed here)',
        target: host.name,
        action: { kind: 'ssh', argv: ['sleep', '4'] },
        timeoutMs: 30_000,
        mutates: false,
        undo: null,
      },
      {
        id: 'ha',
        title: 'add the host to KB_ALL_IP',
        target: host.name,
        action: {
          kind: 'file-edit',
          path: haModule,
          expectedSha256: sha(haBefore),
          edit: { type: 'shell-array-add', name: 'KB_ALL_IP', values: [host.address] },
        },
        timeoutMs: 10_000,
        mutates: true,
        undo: [{ kind: 'file-restore', path: haModule, editStepId: 'ha' }],
        effect: {
          probe: { kind: 'file', path: haModule },
          present: { kind: 'not', of: { kind: 'file-sha', sha256: sha(haBefore) } },
        },
      },
    ],
  });
}

function worker(runId: string): ChildProcess & { lines: string[]; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    [
      require.resolve('tsx/cli'),
      join(__dirname, 'support/engine-child.ts'),
      pg.url,
      lab.inventoryPath,
      runId,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  ) as ChildProcess & { lines: string[]; exited: Promise<number | null> };
  children.push(child);
  child.lines = [];
  child.stdout?.on('data', (b: Buffer) => child.lines.push(...b.toString().split('\n').filter(Boolean)));
  child.stderr?.on('data', (b: Buffer) => child.lines.push(`stderr: ${b.toString()}`));
  child.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  return child;
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await systemClock.sleep(100);
  }
}

/** Submits and approves the plan, starts a worker, and SIGKILLs it while step 3 runs. */
async function crashMidStep(name: string): Promise<{ run: Run; dir: string }> {
  const dir = join(host.clusterPath, `crash-${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  const submitted = await service.submit(crashPlan(dir, `crash-${name}`));
  if (!submitted.ok) throw new Error(submitted.failure.message);
  const run = submitted.run;
  const vote = await service.vote(run.id, 'U_APPROVER', 'approve', run.plan.hash);
  expect(vote.ok && vote.run.state).toBe('approved');

  const first = worker(run.id);
  await until('step 3 to start', async () => {
    const evs = await store.events({ runId: run.id });
    return evs.some((e) => e.event.type === 'step-started' && e.event.index === 2) ? true : undefined;
  });
  first.kill('SIGKILL');
  expect(await first.exited).toBe(null);
  expect((await store.getRun(run.id))?.state).toBe('running'); // nobody has noticed yet
  return { run, dir };
}

it('resumes a run whose worker was killed mid-step, after probing what took effect', async () => {
  const { run, dir } = await crashMidStep('resume');
  const second = worker(run.id);
  const interrupted = await until('the restarted worker to mark it interrupted', async () => {
    const r = await store.getRun(run.id);
    return r?.state === 'interrupted' ? r : undefined;
  });
  expect(interrupted.nextStep).toBe(2);

  const resumed = await service.resume(run.id, 'U_OPS');
  if (!resumed.ok) throw new Error(resumed.failure.message);
  expect(resumed.assessment.readings.map((r) => [r.stepId, r.present])).toEqual([
    ['mkdir', true],
    ['write', true],
  ]);
  expect(resumed.assessment.resumeAt).toBe(2);

  expect(await second.exited).toBe(0);
  expect((await store.getRun(run.id))?.state).toBe('succeeded');
  // Effects on disk: every step exactly once.
  expect(readFileSync(join(dir, 'a.conf'), 'utf8')).toBe('hello\n');
  expect(readFileSync(haModule, 'utf8')).toMatch(
    new RegExp(`KB_ALL_IP=\\([^)]*${host.address.replace(/\./g, '\\.')}`),
  );
  const started = (await store.events({ runId: run.id })).filter((e) => e.event.type === 'step-started');
  expect(started.map((e) => (e.event as { stepId: string }).stepId)).toEqual([
    'mkdir',
    'write',
    'slow',
    'slow',
    'ha',
  ]);
  rmSync(dir, { recursive: true, force: true });
  writeFileSync(haModule, haBefore);
}, 120_000);

it('rolls back a run whose worker was killed mid-step, leaving the host as it was', async () => {
  const { run, dir } = await crashMidStep('rollback');
  const second = worker(run.id);
  await until('interrupted', async () =>
    (await store.getRun(run.id))?.state === 'interrupted' ? true : undefined,
  );

  const rolled = await service.rollback(run.id, 'U_OPS');
  expect(rolled.ok && rolled.run.state).toBe('rolling_back');
  expect(await second.exited).toBe(0);
  expect((await store.getRun(run.id))?.state).toBe('rolled_back');
  expect(existsSync(dir)).toBe(false);
  expect(sha(readFileSync(haModule))).toBe(sha(haBefore));
  expect(await store.getLock('crash-rollback')).toBeUndefined();
}, 120_000);
