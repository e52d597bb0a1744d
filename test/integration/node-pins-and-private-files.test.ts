import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectShell } from '../../src/adapters/connect-node';
import { fingerprintOf } from '../../src/adapters/host-key-verifier';
import { RemoteFileStore } from '../../src/adapters/remote-file-store';
import type { SshRemoteShell } from '../../src/adapters/ssh-remote-shell';
import type { ClusterConfig, NodeConfig } from '../../src/config/normalise-inventory';
import { cmd } from '../../src/shell/shell-command';
import { startPrivateLab, type PrivateLab } from './support/private-lab';

// On a private lab (base 130: srv131, srv132, srv133), for real over SSH:
// - per-node `hostKeys` pins are what decides: a node pinned only by hostKeys (no known_hosts) logs in,
//   a wrong pin is refused as host-key-mismatch, even where known_hosts would accept the key;
// - a file written through the file store is never seen with group/other bits while it has content,
//   unless its final mode asks for them (a watcher process stats it all the while).

let pl: PrivateLab;

beforeAll(async () => {
  pl = await startPrivateLab(130, 'pins');
}, 180_000);
afterAll(() => pl?.stop(), 60_000);

/** The fingerprint of a lab host's ed25519 host key, as `ssh-keygen -lf` prints it. */
function hostFingerprint(index: number): string {
  const pub = readFileSync(join(pl.lab.hosts[index]!.sshdDir, 'ssh_host_ed25519_key.pub'), 'utf8');
  return fingerprintOf(Buffer.from(pub.trim().split(/\s+/)[1]!, 'base64'));
}

const WRONG_PIN = `SHA256:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;

/** The lab's cluster with node 0 pinned by `hostKeys`, with or without the lab's known_hosts. */
function pinned(hostKeys: string[], keepKnownHosts: boolean): ClusterConfig {
  const { knownHostsFile: _dropped, ...ssh } = pl.cluster.ssh;
  const nodes: NodeConfig[] = pl.cluster.nodes.map((n, i) => (i === 0 ? { ...n, hostKeys } : n));
  return { ...pl.cluster, ssh: keepKnownHosts ? pl.cluster.ssh : ssh, nodes };
}

const node0 = () => ({ host: pl.cluster.nodes[0]!.host, sshPort: pl.cluster.nodes[0]!.sshPort });

describe('per-node hostKeys pins', () => {
  it('log in to a node pinned by hostKeys only, with no known_hosts at all', async () => {
    const shell = await connectShell(pinned([hostFingerprint(0)], false), node0(), process.env);
    try {
      expect((await shell.exec(cmd('id', '-un'))).stdout.trim()).toBe(pl.cluster.ssh.user);
    } finally {
      await shell.close();
    }
  });

  it('refuse a wrong pin with host-key-mismatch', async () => {
    await expect(connectShell(pinned([WRONG_PIN], false), node0(), process.env)).rejects.toMatchObject({
      code: 'host-key-mismatch',
    });
  });

  it('refuse a wrong pin even where the cluster known_hosts holds the right key', async () => {
    await expect(connectShell(pinned([WRONG_PIN], true), node0(), process.env)).rejects.toMatchObject({
      code: 'host-key-mismatch',
    });
  });

  it("refuse another node's key: a pin is for its own host", async () => {
    await expect(
      connectShell(pinned([hostFingerprint(1)], false), node0(), process.env),
    ).rejects.toMatchObject({ code: 'host-key-mismatch' });
  });

  it('leave unpinned nodes to known_hosts, and refuse them without it', async () => {
    const target = { host: pl.cluster.nodes[1]!.host, sshPort: pl.cluster.nodes[1]!.sshPort };
    const shell = await connectShell(pinned([hostFingerprint(0)], true), target, process.env);
    await shell.close();
    await expect(
      connectShell(pinned([hostFingerprint(0)], false), target, process.env),
    ).rejects.toMatchObject({
      code: 'host-key-unknown',
    });
  });
});

/**
 * A separate process (so the SSH write in this one is not held up) that stats every entry of `dir`
 * as fast as it can until told to stop, and prints each distinct (name, mode, non-empty) it saw.
 */
function watch(dir: string): { stop(): Promise<string[]> } {
  const source = `
    const fs = require('node:fs'); const seen = new Set(); let stop = false;
    process.stdin.on('data', () => { stop = true; });
    (function loop() {
      for (let i = 0; i < 200; i++) {
        let names = [];
        try { names = fs.readdirSync(${JSON.stringify(dir)}); } catch {}
        for (const n of names) {
          try { const s = fs.statSync(${JSON.stringify(dir)} + '/' + n);
            seen.add(n + ' ' + (s.mode & 0o777).toString(8) + ' ' + (s.size > 0 ? 'content' : 'empty')); } catch {}
        }
      }
      if (stop) { process.stdout.write([...seen].join('\\n')); process.exit(0); }
      setImmediate(loop);
    })();`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve(out.split('\n').filter((l) => l !== '')));
        child.stdin.end('stop\n');
      }),
  };
}

describe('files written through the file store', () => {
  let shell: SshRemoteShell;
  let dir: string;
  beforeAll(async () => {
    shell = await connectShell(pl.cluster, node0(), process.env);
    dir = join(pl.lab.hosts[0]!.clusterPath, 'kbops-mode-test');
    expect((await shell.exec(cmd('mkdir', '-p', '--', dir))).exitCode).toBe(0);
  });
  afterAll(() => shell?.close());

  // Large enough that base64 -d is writing for a while, so the watcher sees the file mid-write.
  const content = Buffer.alloc(24 * 1024 * 1024, 'Secret-Line-Secret-Line\n');

  const seenWithContent = (seen: string[], file: string) =>
    seen.filter(
      (l) => l.endsWith(' content') && (l.startsWith(`${file} `) || l.startsWith(`.${file}.kbops-`)),
    );
  const groupOrOther = (line: string) => (parseInt(line.split(' ')[1]!, 8) & 0o077) !== 0;

  it('a 0600 file is never readable by others while it holds content', async () => {
    const watcher = watch(dir);
    await new RemoteFileStore(shell).write(join(dir, 'db.password'), content, { mode: 0o600 });
    const seen = seenWithContent(await watcher.stop(), 'db.password');
    expect(seen.some((l) => l.startsWith('.db.password.kbops-'))).toBe(true); // caught mid-write
    expect(seen.filter(groupOrOther)).toEqual([]);
  }, 60_000);

  it('the watcher does see group/other bits when the final mode asks for them (it can fail)', async () => {
    const watcher = watch(dir);
    await new RemoteFileStore(shell).write(join(dir, 'public.conf'), content, { mode: 0o644 });
    const seen = seenWithContent(await watcher.stop(), 'public.conf');
    expect(seen).toContain('public.conf 644 content');
    // While it was being written it was still private: 0644 comes only once the content is complete.
    expect(
      seen.filter((l) => l.startsWith('.public.conf.kbops-') && groupOrOther(l) && !l.includes(' 644 ')),
    ).toEqual([]);
    expect(seen.some((l) => l.startsWith('.public.conf.kbops-') && l.includes(' 600 '))).toBe(true);
  }, 60_000);
});
