import { progressReadersOf } from '../../src/app/compose-runs';
import { RUNBOOKS } from '../../src/runbooks';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { ClusterConnector } from '../../src/adapters/cluster-connector';
import { systemClock } from '../../src/adapters/system-clock';
import { sealPlan, type SealedPlan, type Target } from '../../src/core/plan';
import type { StepOutcome } from '../../src/core/run';
import { Executor } from '../../src/engine/executor';
import type { RunStore } from '../../src/ports/run-store';
import { stdinSecretToEnv } from '../../src/shell/shell-command';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { memoryRunStore } from '../unit/engine/memory-run-store';

// The SSH connection serving a base backup is cut (its sshd session process SIGKILLed on the host):
// the step fails, the remote process group (pg_basebackup) is gone within seconds, and the rollback,
// over a fresh SSH login, undoes the run. Lab base 100 (127.0.0.100-103).

const BASE = 100;
let lab: PrivateLab;
let store: RunStore;

beforeAll(async () => {
  lab = await startPrivateLab(BASE, 'ssh-cut');
  store = await memoryRunStore();
}, 180_000);

afterAll(async () => {
  await store?.close();
  await lab?.stop();
});

const stat = (pid: number): { ppid: number; comm: string } | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(') ') + 2).split(' ');
    return { ppid: Number(fields[1]), comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')) };
  } catch {
    return undefined;
  }
};
const pids = (pattern: string): number[] =>
  spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);

function backupPlan(dir: string): SealedPlan {
  const [primary, , fresh] = lab.lab.hosts;
  const t = (h: typeof fresh): Target => ({
    name: h.name,
    host: h.address,
    sshPort: lab.lab.sshPort,
    sqlPort: lab.lab.sqlPort,
  });
  return sealPlan({
    formatVersion: 1,
    runbook: { id: 'ssh-cut', version: 1 },
    cluster: 'lab',
    dialect: 'postgresql',
    params: { dir },
    requester: 'U_REQ',
    createdAt: new Date().toISOString(),
    targets: { [fresh.name]: t(fresh) },
    snapshot: null,
    steps: [
      {
        id: 'mkdir',
        title: 'make the data directory',
        target: fresh.name,
        action: { kind: 'ssh', argv: ['mkdir', '-m', '0700', '--', dir] },
        timeoutMs: 10_000,
        mutates: true,
        undo: [{ kind: 'ssh', argv: ['rmdir', '--', dir] }],
      },
      {
        id: 'basebackup',
        title: 'copy the primary (throttled, so it is cut in the middle)',
        target: fresh.name,
        action: {
          kind: 'ssh',
          argv: stdinSecretToEnv(
            ['PGPASSWORD'],
            [
              posix.join(fresh.binDir, 'pg_basebackup'),
              ...['-h', primary.address, '-p', String(lab.lab.sqlPort), '-U', lab.lab.dbUser],
              ...['-D', dir, '-X', 'stream', '-P', '--max-rate=32k', '-w'],
            ],
          ),
          stdinSecret: 'db.password',
          progress: { kind: 'basebackup' },
        },
        timeoutMs: 600_000,
        mutates: true,
        undo: [{ kind: 'ssh', argv: ['find', dir, '-mindepth', '1', '-delete'] }],
      },
    ],
  });
}

describe('SSH cut in the middle of a base backup', () => {
  it('fails the step, the remote group dies within 5 s, and the rollback succeeds over a new login', async () => {
    const dir = join(lab.lab.hosts[2].clusterPath, 'db', `cut-${process.pid}`);
    const plan = backupPlan(dir);
    const created = await store.createRun({ id: 'cut-1', plan, expiresAt: null });
    if (!created.ok) throw new Error('lock');
    await store.recordApproval({ runId: 'cut-1', userId: 'U_APP', planHash: plan.hash, decision: 'approve' });
    await store.applyEvent('cut-1', 'approve', { actor: 'U_APP' });
    const run = await store.claimNext('chaos', 60_000);
    const connectors: ClusterConnector[] = [];
    const execution = new Executor({
      progressReaders: progressReadersOf(RUNBOOKS),
      store,
      connectorFor: () => {
        const c = new ClusterConnector(lab.cluster, process.env);
        connectors.push(c);
        return c;
      },
      notifier: { notify: () => undefined },
      clock: systemClock,
      owner: 'chaos',
      leaseMs: 60_000,
      pollMs: 200,
      baseApprovals: () => 1,
      autoRollback: () => true,
    }).execute(run!);

    // The base backup is copying: some progress, then find the process on the host.
    const until = Date.now() + 60_000;
    let backup: number[] = [];
    while (Date.now() < until) {
      backup = pids(`^${posix.join(lab.lab.hosts[2].binDir, 'pg_basebackup')} .*-D ${dir} `);
      if (backup.length > 0 && existsSync(join(dir, 'PG_VERSION'))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // pg_basebackup and its WAL-streaming child.
    expect(backup.length).toBeGreaterThanOrEqual(1);
    // The sshd session process: the sshd that pg_basebackup descends from nearest (`kingbase@notty`,
    // which holds the connection), below the host's own sshd. Killing only the privileged monitor
    // above it would not cut anything: the session process serves on.
    const listener = Number(readFileSync(join(lab.lab.hosts[2].sshdDir, 'sshd.pid'), 'utf8').trim());
    let session = Math.min(...backup);
    while (stat(session) && stat(session)!.comm !== 'sshd') session = stat(session)!.ppid;
    expect(stat(session)?.comm).toBe('sshd');
    let above = session;
    while (stat(above) && stat(above)!.ppid !== listener) above = stat(above)!.ppid;
    expect(stat(above)?.ppid).toBe(listener);
    process.kill(session, 'SIGKILL');
    const cutAt = Date.now();

    // Gone: no process of the backup left, zombies aside (they wait only for their parent to reap them).
    // Those seen now count too: pg_basebackup may fork its WAL-streaming child after the first look.
    const alive = (): number[] =>
      [...new Set([...backup, ...pids(`pg_basebackup .*-D ${dir} `)])].filter((p) => {
        try {
          return !/\) [ZX] /.test(readFileSync(`/proc/${p}/stat`, 'utf8'));
        } catch {
          return false;
        }
      });
    while (alive().length > 0 && Date.now() - cutAt < 5000) await new Promise((r) => setTimeout(r, 100));
    expect(alive()).toEqual([]);
    expect(Date.now() - cutAt).toBeLessThan(5000);

    const done = await execution;
    const finished = (await store.events({ runId: 'cut-1' })).flatMap((e) =>
      e.event.type === 'step-finished'
        ? [{ step: e.event.stepId, phase: e.event.phase, outcome: e.event.outcome }]
        : [],
    );
    const backupDo = finished.find((f) => f.step === 'basebackup' && f.phase === 'do');
    expect((backupDo?.outcome as StepOutcome).ok).toBe(false);
    expect(finished.filter((f) => f.phase === 'undo').map((f) => [f.step, f.outcome.ok])).toEqual([
      ['basebackup', true],
      ['mkdir', true],
    ]);
    expect(done.state).toBe('rolled_back');
    expect(existsSync(dir)).toBe(false);
    expect(connectors).toHaveLength(1); // one connector for the run: it logged in again by itself
  }, 180_000);
});
