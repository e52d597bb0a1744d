import { readFile } from 'node:fs/promises';
import { connectShell, connectSql } from '../../src/adapters/connect-node';
import { SshRemoteShell } from '../../src/adapters/ssh-remote-shell';
import type { ClusterConfig } from '../../src/config/normalise-inventory';
import { cmd } from '../../src/shell/shell-command';
import { lab, labCluster } from './support/lab-inventory';

let cluster: ClusterConfig;
beforeAll(async () => {
  cluster = await labCluster();
});

const env = process.env;

describe('the lab over real SSH', () => {
  it.each(lab.hosts.map((h) => [h.name, h.address] as const))(
    '%s (%s) answers as itself',
    async (name, address) => {
      const shell = await connectShell(cluster, { host: address, sshPort: lab.sshPort }, env);
      try {
        const who = await shell.exec(cmd('printenv', 'KBOPS_LAB_HOST'));
        const conn = await shell.exec(cmd('printenv', 'SSH_CONNECTION'));
        const user = await shell.exec(cmd('id', '-un'));
        expect(who).toMatchObject({ exitCode: 0, stdout: `${name}\n` });
        // SSH_CONNECTION = client-ip client-port server-ip server-port
        expect(conn.stdout.trim().split(' ').slice(2)).toEqual([address, String(lab.sshPort)]);
        expect(user.stdout.trim()).toBe('kingbase');
      } finally {
        await shell.close();
      }
    },
  );

  it('offers both tool name sets in db/bin', async () => {
    const h = lab.hosts[2];
    const shell = await connectShell(cluster, { host: h.address, sshPort: lab.sshPort }, env);
    try {
      for (const [pg, sys] of [
        ['pg_ctl', 'sys_ctl'],
        ['pg_basebackup', 'sys_basebackup'],
        ['psql', 'ksql'],
      ]) {
        const a = await shell.exec(cmd(`${h.binDir}/${pg}`, '--version'));
        const b = await shell.exec(cmd(`${h.binDir}/${sys!}`, '--version'));
        expect(a.exitCode).toBe(0);
        expect(b.stdout).toBe(a.stdout);
        expect(a.stdout).toMatch(/\(PostgreSQL\) 15\./);
      }
    } finally {
      await shell.close();
    }
  });

  it('refuses a wrong host key', async () => {
    const [h1, h2] = lab.hosts;
    const knownHosts = await readFile(lab.ssh.knownHosts, 'utf8');
    const key1 = knownHosts
      .split('\n')
      .find((l) => l.startsWith(`${h1.address} `))!
      .split(' ')
      .slice(1)
      .join(' ');
    // known_hosts that pins host 1's key for host 2: a man in the middle, as far as we can tell.
    const forged = `${h2.address} ${key1}\n`;
    await expect(
      SshRemoteShell.connect({
        host: h2.address,
        port: lab.sshPort,
        username: 'kingbase',
        privateKey: await readFile(lab.ssh.clientKey),
        knownHosts: forged,
        readyTimeoutMs: 5000,
      }),
    ).rejects.toMatchObject({ code: 'host-key-mismatch' });
    // And a host with no pin at all is refused too: kbops never trusts on first use.
    await expect(
      SshRemoteShell.connect({
        host: h2.address,
        port: lab.sshPort,
        username: 'kingbase',
        privateKey: await readFile(lab.ssh.clientKey),
        knownHosts: '',
        readyTimeoutMs: 5000,
      }),
    ).rejects.toMatchObject({ code: 'host-key-unknown' });
  });
});

describe('the lab over real SQL', () => {
  it('has one primary and one standby', async () => {
    const states = [];
    for (const node of cluster.nodes) {
      const sql = await connectSql(cluster, { host: node.host, port: node.sqlPort }, env);
      try {
        const r = await sql.query<{ in_recovery: boolean; db: string; usr: string }>(
          'select pg_is_in_recovery() as in_recovery, current_database() as db, current_user as usr',
        );
        states.push([node.name, r.rows[0]]);
      } finally {
        await sql.close();
      }
    }
    expect(states).toEqual([
      ['srv11', { in_recovery: false, db: 'TEST', usr: 'SYSTEM' }],
      ['srv12', { in_recovery: true, db: 'TEST', usr: 'SYSTEM' }],
    ]);
  });

  it('shows the standby streaming by application_name, through its slot', async () => {
    const primary = cluster.nodes[0]!;
    const sql = await connectSql(cluster, { host: primary.host, port: primary.sqlPort }, env);
    try {
      const rep = await sql.query('select application_name, state from pg_stat_replication');
      expect(rep.rows).toEqual([{ application_name: 'srv12', state: 'streaming' }]);
      const slots = await sql.query('select slot_name, active from pg_replication_slots order by slot_name');
      expect(slots.rows).toEqual([
        { slot_name: 'slot_srv11', active: false },
        { slot_name: 'slot_srv12', active: true },
      ]);
    } finally {
      await sql.close();
    }
  });

  it('lists two nodes up through pgpool', async () => {
    const m = cluster.manager!.nodes[0]!;
    const sql = await connectSql(cluster, { host: m.host, port: m.sqlPort }, env);
    try {
      const r = await sql.query<Record<string, string>>('show pool_nodes');
      expect(r.rows.map((n) => [n.node_id, n.hostname, n.port, n.status, n.role])).toEqual([
        ['0', '127.0.0.11', '54321', 'up', 'primary'],
        ['1', '127.0.0.12', '54321', 'up', 'standby'],
      ]);
    } finally {
      await sql.close();
    }
  });

  it('rejects a wrong password (real authentication)', async () => {
    const node = cluster.nodes[0]!;
    const wrong = { ...cluster, db: { ...cluster.db, password: { env: 'KBOPS_TEST_WRONG_PW' } } };
    await expect(
      connectSql(wrong, { host: node.host, port: node.sqlPort }, { KBOPS_TEST_WRONG_PW: 'wrong-password' }),
    ).rejects.toThrow(/password authentication failed/);
  });
});
