import { spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { posix } from 'node:path';
import { ClusterConnector } from '../../src/adapters/cluster-connector';
import type { Target } from '../../src/core/plan';
import type { RemoteStart } from '../../src/ports/remote-shell';
import { cmd, stdinSecretToPcpPass } from '../../src/shell/shell-command';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { ARTIFACTS_ENV, secretsFileFor } from '../support/artifacts';

// The PCP password reaches pcp_* through a file with no name on disk (/dev/fd/3 of an unlinked
// file): a SIGKILL of the whole remote group in the middle of a pcp command leaves no file holding
// the password anywhere under /tmp or $TMPDIR. Lab base 110 (127.0.0.110-113).

const BASE = 110;
let lab: PrivateLab;
let connector: ClusterConnector;
let manager: Target;
let password: string;
let silent: Server;
const sockets: Socket[] = [];

beforeAll(async () => {
  lab = await startPrivateLab(BASE, 'pcp-kill');
  connector = new ClusterConnector(lab.cluster, process.env);
  const node = lab.lab.hosts[0];
  manager = { name: node.name, host: node.address, sshPort: lab.lab.sshPort, sqlPort: lab.lab.sqlPort };
  password = await connector.secret('pcp.password');
  // A PCP port that accepts and never answers: pcp_* has read its password and waits for a salt.
  silent = createServer((s) => void sockets.push(s.on('error', () => undefined)));
  await new Promise<void>((r) => silent.listen(lab.lab.pool.pcpPort + 1, lab.lab.hosts[2].address, r));
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.destroy();
  silent?.close();
  await connector?.close();
  await lab?.stop();
});

const pcpNodeCount = (host: string, port: number) =>
  cmd(
    ...(stdinSecretToPcpPass(host, port, lab.cluster.db.user, [
      posix.join(lab.cluster.manager!.binDir, 'pcp_node_count'),
      ...['-h', host, '-p', String(port), '-U', lab.cluster.db.user, '-w'],
    ]) as [string, ...string[]]),
  );

/** Every file under /tmp and $TMPDIR (and the remote user's TMPDIR) that holds the password. */
function filesHoldingPassword(): string[] {
  const dirs = [...new Set(['/tmp', process.env.TMPDIR ?? '/tmp'])];
  const r = spawnSync('grep', ['-rlsF', '--', password, ...dirs], { encoding: 'utf8' });
  // The test run's own register of lab secrets (for the secret scan) is not a file kbops made.
  const artifacts = process.env[ARTIFACTS_ENV];
  const register = artifacts ? secretsFileFor(artifacts) : undefined;
  return r.stdout.split('\n').filter((f) => f !== '' && f !== register);
}

describe('pcp password file', () => {
  it('pcp_node_count reads it from /dev/fd/3 and answers', async () => {
    const shell = await connector.shell(manager);
    const r = await shell.exec(pcpNodeCount(lab.lab.poolAddress, lab.lab.pool.pcpPort), {
      stdin: `${password}\n`,
      timeoutMs: 30_000,
    });
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({ exitCode: 0, stdout: '2\n' });
  });

  it('a SIGKILL of the group mid-command leaves the password in no file', async () => {
    const shell = await connector.shell(manager);
    const started: RemoteStart[] = [];
    const ac = new AbortController();
    const port = lab.lab.pool.pcpPort + 1;
    const run = shell.exec(pcpNodeCount(lab.lab.hosts[2].address, port), {
      stdin: `${password}\n`,
      signal: ac.signal,
      onStarted: (s) => started.push(s),
    });
    // Wait until pcp has connected (it read the password file first) and hangs for the salt.
    const until = Date.now() + 10_000;
    while (sockets.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(sockets).toHaveLength(1);
    const tool = posix.join(lab.cluster.manager!.binDir, 'pcp_node_count');
    const pcp = spawnSync('pgrep', ['-f', `^${tool} -h ${lab.lab.hosts[2].address} -p ${port} `], {
      encoding: 'utf8',
    }).stdout.trim();
    expect(pcp).toMatch(/^\d+$/);
    // While it runs, the password is only in a file with no name (its fd 3 points at a deleted file).
    expect(spawnSync('readlink', [`/proc/${pcp}/fd/3`], { encoding: 'utf8' }).stdout).toMatch(
      / \(deleted\)\n$/,
    );
    expect(filesHoldingPassword()).toEqual([]);
    ac.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError', remoteKillConfirmed: true });
    // The whole group is gone (killed processes linger as zombies only until their parent reaps them).
    const reaped = Date.now() + 3000;
    while (spawnSync('pgrep', ['-g', String(started[0]!.pgid)]).status === 0 && Date.now() < reaped) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(spawnSync('pgrep', ['-g', String(started[0]!.pgid)]).status).toBe(1);
    expect(filesHoldingPassword()).toEqual([]);
  });
});
