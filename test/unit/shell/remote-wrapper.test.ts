import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd, reapGroup, seq, wrapRemote, type ShellCommand } from '../../../src/shell/shell-command';

// The wrapper every remote command runs in, and the reaper, run for real the way sshd runs them: the
// text given to `sh -c` in a new session (sshd calls setsid), with `sh` resolving to dash or bash.

const NONCE = '0123456789abcdef';
let scratch: string;
const shells: Record<string, string> = {};

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kbops-wrap-'));
  for (const name of ['dash', 'bash']) {
    const dir = join(scratch, name);
    mkdirSync(dir);
    symlinkSync(`/bin/${name}`, join(dir, 'sh'));
    shells[name] = dir;
  }
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const env = (shell: string): NodeJS.ProcessEnv => ({
  PATH: `${shells[shell]}:/usr/bin:/bin`,
  LANG: 'zh_CN.UTF-8',
});
const unique = (n: number): string => `${n}.${process.pid}${Math.floor(Math.random() * 1000)}`;
const alive = (pattern: string): boolean => spawnSync('pgrep', ['-f', pattern]).status === 0;

async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (ok()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return ok();
}

/** Runs the wrapped text as an SSH session would: its own session, stdin given, output collected. */
function runWrapped(shell: string, c: ShellCommand, stdin = '') {
  const text = wrapRemote('m:', NONCE, c).text;
  const r = spawnSync('/bin/sh', ['-c', text], { env: env(shell), input: stdin, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe.each(['dash', 'bash'])('wrapRemote with sh = %s', (shell) => {
  it('reports the group leader PID first, then runs the command with its stdin and exit status', () => {
    const r = runWrapped(shell, seq(cmd('cat'), cmd('sh', '-c', 'echo oops >&2; exit 7')), 'secret\n');
    expect(r.stdout).toBe('secret\n');
    expect(r.stderr).toMatch(/^m:\d+\noops\n$/);
    expect(r.status).toBe(7);
  });

  it('gives every process LC_ALL=C and the exec nonce, whatever the host language', () => {
    const r = runWrapped(shell, cmd('sh', '-c', 'echo "$LC_ALL $KBOPS_EXEC"; date -d @0 +%A'));
    expect(r.stdout).toBe(`C ${NONCE}\nThursday\n`);
  });

  it('stops its watchdog when the command ends (an `exit` in the command included), leaving nothing', async () => {
    const started = Date.now();
    const r = runWrapped(shell, cmd('sh', '-c', 'exit 3'));
    expect(r.status).toBe(3);
    expect(Date.now() - started).toBeLessThan(900); // the watchdog holds no output pipe open
    const pid = Number(/^m:(\d+)/.exec(r.stderr)?.[1]);
    // Nothing of the group is left: no sleeping watchdog.
    expect(await until(() => spawnSync('pgrep', ['-g', String(pid)]).status === 1, 2000)).toBe(true);
  });

  it('kills the whole group within seconds when its parent (the sshd session) dies, not before', async () => {
    const s = unique(401);
    const text = wrapRemote('m:', NONCE, seq(cmd('sh', '-c', `sleep ${s} | cat`), cmd('echo', 'after'))).text;
    // The parent starts the session in its own session, as sshd does, then dies 2.5 s later.
    const parent = spawn('/bin/sh', ['-c', 'setsid /bin/sh -c "$0" >/dev/null 2>&1 & sleep 2.5', text], {
      env: env(shell),
      stdio: 'ignore',
    });
    expect(await until(() => alive(`sleep ${s}`), 2000)).toBe(true);
    await new Promise((r) => parent.once('exit', r));
    expect(alive(`sleep ${s}`)).toBe(true); // alive as long as its session was
    const diedAt = Date.now();
    expect(await until(() => !alive(`sleep ${s}`), 4000)).toBe(true);
    expect(Date.now() - diedAt).toBeLessThan(3500);
  });
});

describe('wrapRemote arguments', () => {
  it('refuses a marker or nonce that is not a plain token', () => {
    expect(() => wrapRemote("a'b", NONCE, cmd('true'))).toThrow(TypeError);
    expect(() => wrapRemote('m:', 'not hex!', cmd('true'))).toThrow(TypeError);
    expect(() => wrapRemote('m:', '', cmd('true'))).toThrow(TypeError);
  });
});

describe.each(['dash', 'bash'])('reapGroup with sh = %s', (shell) => {
  /** Starts a wrapped `sleep` in a session of its own; returns its group id. */
  async function startGroup(s: string, nonce = NONCE): Promise<number> {
    const out = join(scratch, `${s}.err`);
    const text = wrapRemote('m:', nonce, cmd('sleep', s)).text;
    const p = spawn('/bin/sh', ['-c', `exec 2>${out}; ${text}`], {
      env: env(shell),
      detached: true,
      stdio: 'ignore',
    });
    p.unref();
    expect(
      await until(() => alive(`sleep ${s}`) && existsSync(out) && readFileSync(out, 'utf8') !== '', 3000),
    ).toBe(true);
    return Number(/^m:(\d+)/.exec(readFileSync(out, 'utf8'))?.[1]);
  }
  const reap = (pgid: number, nonce: string) => {
    const r = spawnSync('/bin/sh', ['-c', cmd(...(reapGroup(pgid, nonce) as [string, ...string[]])).text], {
      env: env(shell),
      encoding: 'utf8',
    });
    return { status: r.status, stdout: r.stdout };
  };

  it('kills a group of ours and reports it gone', async () => {
    const s = unique(402);
    const pgid = await startGroup(s);
    expect(reap(pgid, NONCE)).toEqual({ status: 0, stdout: 'killed\ngone\n' });
    expect(alive(`sleep ${s}`)).toBe(false);
    expect(reap(pgid, NONCE)).toEqual({ status: 0, stdout: 'absent\ngone\n' }); // idempotent
  });

  it('never kills a group that is not ours (a recycled id: another nonce, or none)', async () => {
    const s = unique(403);
    const pgid = await startGroup(s, 'fedcba9876543210');
    expect(reap(pgid, NONCE)).toEqual({ status: 0, stdout: 'absent\ngone\n' });
    expect(alive(`sleep ${s}`)).toBe(true);
    const t = unique(404);
    const plain = spawn('setsid', ['sleep', t], { stdio: 'ignore', detached: true });
    expect(await until(() => alive(`sleep ${t}`), 2000)).toBe(true);
    expect(reap(plain.pid!, NONCE).stdout).toBe('absent\ngone\n');
    expect(alive(`sleep ${t}`)).toBe(true);
    expect(reap(pgid, 'fedcba9876543210').stdout).toBe('killed\ngone\n');
    process.kill(plain.pid!, 'SIGKILL');
  });
});

describe('reapGroup arguments', () => {
  it.each([0, 1, -5, 1.5, NaN])('refuses pgid %p', (pgid) => {
    expect(() => reapGroup(pgid, NONCE)).toThrow(TypeError);
  });
  it('refuses a nonce that is not hex', () => {
    expect(() => reapGroup(100, "x'; rm -rf /")).toThrow(TypeError);
  });
});
