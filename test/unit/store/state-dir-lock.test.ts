import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  acquireStateDirLock,
  LOCK_FILE,
  startTicksOf,
  StateDirLockedError,
  type LockHolder,
} from '../../../src/store/state-dir-lock';

let dir: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbops-lock-'));
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const lockFile = () => join(dir, LOCK_FILE);
const writeHolder = (h: Partial<LockHolder>) =>
  writeFileSync(
    lockFile(),
    JSON.stringify({
      host: hostname(),
      instanceId: 'other',
      since: '2020-01-01T00:00:00.000Z',
      nonce: 'n0',
      ...h,
    }),
  );

/** A pid that certainly ran and certainly ended. */
const deadPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

/** A live process that is not this one. */
function liveChild(): ChildProcess {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  children.push(c);
  return c;
}

function refusal(f: () => unknown): StateDirLockedError {
  try {
    f();
  } catch (err) {
    if (err instanceof StateDirLockedError) return err;
    throw err;
  }
  throw new Error('expected the lock to be refused');
}

describe('acquireStateDirLock', () => {
  it('writes the holder (mode 600) and refuses a second holder, naming the first', () => {
    const lock = acquireStateDirLock(dir, { instanceId: 'kbops@h/1/abc' });
    const onDisk = JSON.parse(readFileSync(lockFile(), 'utf8')) as LockHolder;
    expect(onDisk).toMatchObject({ pid: process.pid, host: hostname(), instanceId: 'kbops@h/1/abc' });
    expect(statSync(lockFile()).mode & 0o777).toBe(0o600);
    const err = refusal(() => acquireStateDirLock(dir));
    expect(err.message).toContain(`pid ${process.pid} on host ${hostname()}`);
    expect(err.message).toContain('instance kbops@h/1/abc');
    expect(err.message).toContain(`since ${onDisk.since}`);
    expect(err.failure.hint).toMatch(/KBOPS_STATE_DIR/);
    lock.release();
    expect(() => statSync(lockFile())).toThrow(/ENOENT/);
    acquireStateDirLock(dir).release();
  });

  it('takes over the lock of a dead process (kill -9 leaves one behind)', () => {
    writeHolder({ pid: deadPid() });
    const lock = acquireStateDirLock(dir);
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a previous incarnation with this very pid (pid 1 in a container)', () => {
    writeHolder({ pid: process.pid, nonce: 'from-before-the-restart' });
    acquireStateDirLock(dir).release();
  });

  it('refuses while another live process holds it, unless its pid was reused by another program', () => {
    const c = liveChild();
    writeHolder({ pid: c.pid!, startTicks: startTicksOf(c.pid!) });
    expect(refusal(() => acquireStateDirLock(dir)).holder?.pid).toBe(c.pid);
    writeHolder({ pid: c.pid!, startTicks: '1' }); // same pid, another start time: not the holder
    acquireStateDirLock(dir).release();
  });

  it('judges a holder on another host by its heartbeat', () => {
    writeHolder({ pid: 1, host: 'elsewhere' });
    expect(refusal(() => acquireStateDirLock(dir, { staleMs: 30_000 })).holder?.host).toBe('elsewhere');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(), old, old);
    acquireStateDirLock(dir, { staleMs: 30_000 }).release();
  });

  it('keeps its heartbeat and tells when the lock was taken from it', async () => {
    const lost: unknown[] = [];
    const lock = acquireStateDirLock(dir, { heartbeatMs: 20, onLost: (h) => lost.push(h) });
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile(), old, old);
    await new Promise((r) => setTimeout(r, 100));
    expect(Date.now() - statSync(lockFile()).mtimeMs).toBeLessThan(5_000);
    writeHolder({ pid: 4242, nonce: 'thief' });
    await new Promise((r) => setTimeout(r, 100));
    expect(lost).toEqual([expect.objectContaining({ nonce: 'thief' })]);
    lock.release(); // not ours any more: left alone
    expect(JSON.parse(readFileSync(lockFile(), 'utf8')).nonce).toBe('thief');
  });

  it('refuses a real second process and lets the next one in after a kill -9', async () => {
    const script = `
      const { acquireStateDirLock } = require(${JSON.stringify(join(__dirname, '../../../src/store/state-dir-lock.ts'))});
      acquireStateDirLock(process.argv[1], { instanceId: 'child' });
      console.log('held');
      setTimeout(() => {}, 60000);`;
    // node itself with tsx's hooks (not the tsx wrapper, which would put a process in between).
    const c = spawn(process.execPath, ['--import', 'tsx', '-e', script, dir], {
      cwd: join(__dirname, '../../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(c);
    await new Promise<void>((resolve, reject) => {
      c.stdout!.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      c.once('exit', (code) => reject(new Error(`child exited ${code}`)));
    });
    const err = refusal(() => acquireStateDirLock(dir));
    expect(err.holder).toMatchObject({ instanceId: 'child', host: hostname(), pid: c.pid });
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
    acquireStateDirLock(dir).release();
  }, 30_000);
});
