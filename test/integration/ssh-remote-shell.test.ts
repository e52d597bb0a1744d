// Self-contained: starts its own sshd on 127.0.0.99:2222 (loopback only), logs in as root with a generated
// key, and stops that sshd by PID afterwards. Needs root, /usr/sbin/sshd and ssh-keygen.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fingerprintOf } from '../../src/adapters/host-key-verifier';
import {
  SshConnectError,
  SshRemoteShell,
  SshSessionError,
  type SshConnectOptions,
  type SshLogger,
} from '../../src/adapters/ssh-remote-shell';
import { reapRemote } from '../../src/engine/reap-remote';
import type { RemoteStart } from '../../src/ports/remote-shell';
import { cmd, pipe, seq } from '../../src/shell/shell-command';

const HOST = '127.0.0.99';
const PORT = 2222;

let dir: string;
let sshd: ChildProcess;
let base: SshConnectOptions;
let shell: SshRemoteShell;
let hostPubLine: string;

function keygen(name: string): { privateKey: Buffer; pubLine: string } {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  const pubLine = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  return { privateKey: readFileSync(path), pubLine };
}

// A sleep duration unique to this run, so pgrep cannot confuse it with anything else.
const marker = (n: number): string => `${n}.${process.pid}`;

/** Polls the local process table (the "remote" host is this machine) until nothing matches. */
async function gone(pattern: string, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (spawnSync('pgrep', ['-f', pattern]).status === 1) return true;
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function running(pattern: string, ms = 5000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (spawnSync('pgrep', ['-f', pattern]).status === 0) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kbops-sshd-'));
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = keygen('host_key');
  hostPubLine = hostKey.pubLine;
  const client = keygen('client_key');
  writeFileSync(join(dir, 'authorized_keys'), `${client.pubLine}\n`, { mode: 0o600 });
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `ListenAddress ${HOST}:${PORT}`,
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      '',
    ].join('\n'),
  );
  sshd = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`sshd did not start:\n${log}`)), 10_000);
    sshd.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      if (log.includes('Server listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    sshd.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code}:\n${log}`));
    });
  });
  sshd.stderr?.resume();
  base = {
    host: HOST,
    port: PORT,
    username: 'root',
    privateKey: client.privateKey,
    fingerprints: [fingerprintOf(Buffer.from(hostKey.pubLine.split(' ')[1] ?? '', 'base64'))],
    killTimeoutMs: 5000,
  };
  shell = await SshRemoteShell.connect(base);
});

afterAll(async () => {
  await shell?.close();
  if (sshd?.pid !== undefined && sshd.exitCode === null) {
    const exited = new Promise((r) => sshd.once('exit', r));
    process.kill(sshd.pid, 'SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('exec', () => {
  it('delivers every argument byte-identical and strips the PID report', async () => {
    const args = ['', 'a b', "it's", '$(touch /tmp/pwned)', '`x`', 'a;b', '\n', '-n', '*', 'ünï 🐘', '\\'];
    const r = await shell.exec(cmd('printf', '%s\\0', ...args));
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(args);
    expect(r).toMatchObject({ exitCode: 0, signal: null, stderr: '' });
    expect(r.durationMs).toBeGreaterThan(0);
    expect((await shell.exec(cmd('id', '-un'))).stdout).toBe('root\n');
  });

  it('calls back once per line even when output arrives in pieces', async () => {
    const lines: string[] = [];
    const r = await shell.exec(
      seq(
        cmd('printf', 'a'),
        cmd('sleep', '0.2'),
        cmd('printf', 'b\\nc'),
        cmd('sleep', '0.2'),
        cmd('printf', '\\n\\nd'),
      ),
      { onStdoutLine: (l) => lines.push(l) },
    );
    expect(lines).toEqual(['ab', 'c', '', 'd']);
    expect(r.stdout).toBe('ab\nc\n\nd');
  });

  it('separates stderr lines', async () => {
    const errLines: string[] = [];
    const r = await shell.exec(cmd('sh', '-c', 'echo out; echo e1 >&2; echo e2 >&2'), {
      onStderrLine: (l) => errLines.push(l),
    });
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('e1\ne2\n');
    expect(errLines).toEqual(['e1', 'e2']);
  });

  it('writes stdin and closes it, and never logs it', async () => {
    const logged: unknown[] = [];
    const record = (...args: unknown[]): void => void logged.push(args);
    const logger = { debug: record, info: record, warn: record } as unknown as SshLogger;
    const logging = await SshRemoteShell.connect({ ...base, logger });
    const r = await logging.exec(cmd('cat'), { stdin: 'hunter2-secret\nline 2' });
    await logging.close();
    expect(r.stdout).toBe('hunter2-secret\nline 2');
    expect(JSON.stringify(logged)).toContain("'cat'");
    expect(JSON.stringify(logged)).not.toContain('hunter2');
    const big = Buffer.alloc(1024 * 1024, 'x');
    expect((await shell.exec(cmd('wc', '-c'), { stdin: big })).stdout.trim()).toBe(String(big.length));
    // No stdin given: the command sees EOF at once instead of hanging.
    expect((await shell.exec(cmd('cat'))).stdout).toBe('');
  });

  it('returns a non-zero exit as a result', async () => {
    const r = await shell.exec(cmd('sh', '-c', 'echo failing >&2; exit 7'));
    expect(r).toMatchObject({ exitCode: 7, signal: null, stderr: 'failing\n' });
  });

  it('runs many commands concurrently on one connection (more than MaxSessions)', async () => {
    const results = await Promise.all(
      Array.from({ length: 14 }, (_, i) => shell.exec(cmd('sh', '-c', 'sleep 0.3; echo "$0"', `n${i}`))),
    );
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 14 }, (_, i) => `n${i}\n`));
  });
});

describe('timeout and abort kill the remote process', () => {
  it('timeout kills the whole remote process group', async () => {
    const s1 = marker(986);
    const s2 = marker(987);
    const started = Date.now();
    const run = shell.exec(seq(pipe(cmd('sleep', s1), cmd('cat')), cmd('sleep', s2)), { timeoutMs: 700 });
    await expect(run).rejects.toMatchObject({ name: 'TimeoutError', remoteKillConfirmed: true });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await gone(`sleep ${s1}`)).toBe(true);
    expect(await gone(`sleep ${s2}`)).toBe(true);
  });

  it('abort kills the remote process once it is running', async () => {
    const s = marker(985);
    const ac = new AbortController();
    const run = shell.exec(seq(cmd('echo', 'started'), cmd('sleep', s), cmd('echo', 'never')), {
      signal: ac.signal,
      onStdoutLine: (l) =>
        l === 'started' && setTimeout(() => ac.abort(new Error('operator said stop')), 200),
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError', remoteKillConfirmed: true });
    await expect(run).rejects.toHaveProperty('cause.message', 'operator said stop');
    expect(await gone(`sleep ${s}`)).toBe(true);
  });

  it('abort right after exec (before the remote PID is known) still kills it', async () => {
    const s = marker(984);
    const ac = new AbortController();
    const run = shell.exec(seq(cmd('sleep', s), cmd('echo', 'never')), { signal: ac.signal });
    setImmediate(() => ac.abort());
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(await gone(`sleep ${s}`)).toBe(true);
  });

  it('an already-aborted signal runs nothing', async () => {
    const s = marker(983);
    const run = shell.exec(cmd('sleep', s), { signal: AbortSignal.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(await running(`sleep ${s}`, 500)).toBe(false);
  });

  it('the connection stays usable after a kill', async () => {
    expect((await shell.exec(cmd('echo', 'still here'))).stdout).toBe('still here\n');
  });
});

describe('connect', () => {
  it('accepts a known_hosts entry for [host]:port', async () => {
    const s = await SshRemoteShell.connect({
      ...base,
      fingerprints: undefined,
      knownHosts: `[${HOST}]:${PORT} ${hostPubLine}\n`,
    });
    await s.close();
  });

  it('refuses a wrong host key with host-key-mismatch and says what to do', async () => {
    const other = fingerprintOf(Buffer.from('not the host key'));
    const err = await SshRemoteShell.connect({ ...base, fingerprints: [other] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshConnectError);
    expect(err).toMatchObject({ code: 'host-key-mismatch' });
    expect((err as Error).message).toMatch(/update known_hosts/);
  });

  it('refuses a host with no pinned key (no trust on first use)', async () => {
    const err = await SshRemoteShell.connect({ ...base, fingerprints: [] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'host-key-unknown' });
  });

  it('reports a refused login as auth-failed', async () => {
    const stranger = keygen('stranger_key');
    const err = await SshRemoteShell.connect({ ...base, privateKey: stranger.privateKey }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: 'SshConnectError', code: 'auth-failed' });
  });

  it('reports a closed port as unreachable', async () => {
    const err = await SshRemoteShell.connect({ ...base, port: PORT + 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unreachable' });
  });

  it('rejects a running exec with SshSessionError when the connection goes away', async () => {
    const s = await SshRemoteShell.connect(base);
    const sleeper = marker(982);
    const run = s.exec(cmd('sleep', sleeper));
    expect(await running(`sleep ${sleeper}`)).toBe(true);
    await s.close();
    await expect(run).rejects.toBeInstanceOf(SshSessionError);
    await expect(s.exec(cmd('true'))).rejects.toBeInstanceOf(SshSessionError);
    // Without a pty, sshd does not signal the command when the link drops: the wrapper's watchdog does.
    expect(await gone(`sleep ${sleeper}`, 5000)).toBe(true);
  });
});

/** The parent PID and process group of a local process, from /proc. */
function statOf(pid: number): { ppid: number; pgid: number } | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /s, '')
      .split(' ');
    return { ppid: Number(fields[1]), pgid: Number(fields[2]) };
  } catch {
    return undefined;
  }
}

async function until(ok: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return ok();
}

function pidOf(pattern: string): number {
  const out = spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).stdout.trim().split('\n');
  return Number(out[0]);
}

describe('remote process groups', () => {
  it('reports the group and nonce of each command, which runs with LC_ALL=C and the nonce in its env', async () => {
    const started: RemoteStart[] = [];
    const s = marker(981);
    const run = shell.exec(cmd('sh', '-c', `echo "$LC_ALL"; exec sleep ${s}`), {
      onStarted: (info) => started.push(info),
      timeoutMs: 3000,
    });
    expect(await running(`sleep ${s}`)).toBe(true);
    expect(await until(() => started.length > 0)).toBe(true);
    expect(started).toHaveLength(1);
    const { pgid, nonce } = started[0]!;
    const pid = pidOf(`sleep ${s}`);
    expect(statOf(pid)?.pgid).toBe(pgid);
    expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')).toEqual(
      expect.arrayContaining([`KBOPS_EXEC=${nonce}`, 'LC_ALL=C']),
    );
    await expect(run).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('kills the remote group within seconds when its sshd session process is killed', async () => {
    const s = await SshRemoteShell.connect(base);
    const sleeper = marker(980);
    const run = s.exec(seq(pipe(cmd('sleep', sleeper), cmd('cat')), cmd('echo', 'never')));
    expect(await running(`sleep ${sleeper}`)).toBe(true);
    // The session process: the nearest sshd above the command (it holds the connection), below ours.
    let p = pidOf(`sleep ${sleeper}`);
    while (statOf(p) !== undefined && !readFileSync(`/proc/${p}/comm`, 'utf8').startsWith('sshd')) {
      p = statOf(p)!.ppid;
    }
    let above = p;
    while (statOf(above) !== undefined && statOf(above)!.ppid !== sshd.pid) above = statOf(above)!.ppid;
    expect(statOf(above)?.ppid).toBe(sshd.pid);
    process.kill(p, 'SIGKILL');
    const cutAt = Date.now();
    await expect(run).rejects.toBeInstanceOf(SshSessionError);
    expect(await gone(`sleep ${sleeper}`, 5000)).toBe(true);
    expect(Date.now() - cutAt).toBeLessThan(5000);
    expect(s.closed).toBe(true);
  });

  it('reapRemote kills a recorded group that is still ours, and leaves one that is not', async () => {
    const started: RemoteStart[] = [];
    const s = marker(979);
    const run = shell.exec(cmd('sleep', s), { onStarted: (info) => started.push(info) });
    expect(await running(`sleep ${s}`)).toBe(true);
    expect(await until(() => started.length > 0)).toBe(true);
    const group = started[0]!;
    // A recycled id: the same group number with another exec's nonce is never touched.
    expect(await reapRemote(shell, { pgid: group.pgid, nonce: 'ffffffffffffffff' })).toEqual({
      gone: true,
      killed: false,
    });
    expect(await running(`sleep ${s}`, 300)).toBe(true);
    expect(await reapRemote(shell, group)).toEqual({ gone: true, killed: true });
    expect(await gone(`sleep ${s}`, 100)).toBe(true);
    expect(await run).toMatchObject({ exitCode: null, signal: 'SIGKILL' });
    expect(await reapRemote(shell, group)).toEqual({ gone: true, killed: false });
  });

  it('keeps memory bounded under a 200 MB stderr without a newline', async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const lines: string[] = [];
    try {
      const r = await shell.exec(cmd('sh', '-c', "head -c 200000000 /dev/zero | tr '\\0' x >&2; echo done"), {
        onStderrLine: (l) => lines.push(l),
      });
      expect(r.stdout).toBe('done\n');
      expect(r.stderr.length).toBeLessThanOrEqual(64 * 1024);
      expect(r.stderr).toMatch(/^x+ \[line cut at 8192 characters\]\n$/);
      expect(lines.map((l) => l.length)).toEqual([8192]);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(50 * 1024 * 1024);
  }, 60_000);

  it('keeps the tail of a long output and says how much it dropped', async () => {
    const r = await shell.exec(cmd('seq', '1', '100000'));
    expect(r.stdout.length).toBe(64 * 1024);
    expect(r.stdout.endsWith('99999\n100000\n')).toBe(true);
    expect(r.truncated?.stdout).toBe(588895 - 64 * 1024);
    const all = await shell.exec(cmd('seq', '1', '100000'), { maxBufferedChars: 1024 * 1024 });
    expect(all.stdout.length).toBe(588895);
    expect(all.truncated).toBeUndefined();
  });
});
