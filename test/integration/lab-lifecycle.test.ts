import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { labProcesses } from '../../lab/lab-down';
import { isAlive, sleep } from '../../lab/lab-exec';
import { labLayout } from '../../lab/lab-layout';
import { trySql } from '../../lab/lab-state';

// A second, throw-away lab beside the shared one (other addresses, other directory), driven
// through the real CLI: up from nothing, idempotent re-up, failover, then down leaves nothing.

const root = `/var/tmp/kbops-lab-lifecycle-${process.pid}`;
const base = 20;
const lab = labLayout({ root, base });
const cliEnv = { ...process.env, KBOPS_LAB_DIR: root, KBOPS_LAB_BASE: String(base) };

function labCli(verb: string): { code: number | null; out: string; ms: number } {
  const started = Date.now();
  const r = spawnSync(
    process.execPath,
    [require.resolve('tsx/cli'), join(__dirname, '../../lab/lab-cli.ts'), verb],
    {
      env: cliEnv,
      encoding: 'utf8',
      timeout: 180_000,
    },
  );
  return { code: r.status, out: `${r.stdout}${r.stderr}`, ms: Date.now() - started };
}

const pidIn = async (path: string) => Number(/^\s*(\d+)/.exec(await readFile(path, 'utf8'))?.[1]);

const portAnswers = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port, timeout: 1000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });

afterAll(() => {
  if (existsSync(root)) labCli('down'); // leave nothing behind even when an assertion failed
});

it('comes up from nothing in under a minute, fails over, and goes down without a trace', async () => {
  expect(existsSync(root)).toBe(false);
  const up = labCli('up');
  expect(up.out).toContain('lab up in');
  expect(up.code).toBe(0);
  expect(up.ms).toBeLessThan(60_000);

  const status = labCli('status');
  expect(status.code).toBe(0);
  expect(status.out).toMatch(/node 0 127\.0\.0\.21 up primary/);
  expect(status.out).toMatch(/node 1 127\.0\.0\.22 up standby/);

  // Idempotent: a second up changes nothing that is running.
  const pidsBefore = await Promise.all(lab.hosts.map((h) => pidIn(join(h.sshdDir, 'sshd.pid'))));
  const poolBefore = await pidIn(lab.pool.pidFile);
  const again = labCli('up');
  expect(again.code).toBe(0);
  expect(again.out).not.toMatch(/initdb|base backup|starting pgpool/);
  expect(await Promise.all(lab.hosts.map((h) => pidIn(join(h.sshdDir, 'sshd.pid'))))).toEqual(pidsBefore);
  expect(await pidIn(lab.pool.pidFile)).toBe(poolBefore);

  // Failover: stop the primary; pgpool's failover_command promotes host 2 over SSH.
  const [primary, standby] = lab.hosts;
  const postmaster = await pidIn(join(primary.dataDir, 'postmaster.pid'));
  process.kill(postmaster, 'SIGINT'); // fast shutdown of the primary, as `pg_ctl stop -m fast`
  let promoted = false;
  for (let i = 0; i < 200 && !promoted; i++) {
    const rows = await trySql<{ r: boolean }>(
      lab,
      { host: standby.address, port: lab.sqlPort },
      'select pg_is_in_recovery() as r',
    );
    promoted = rows?.[0]?.r === false;
    if (!promoted) await sleep(100);
  }
  expect(promoted).toBe(true);
  expect(await readFile(lab.pool.failoverLog, 'utf8')).toMatch(
    /failed=0\(127\.0\.0\.21\) old_primary=0 new_main=1\(127\.0\.0\.22\)/,
  );
  // pgpool restarts its children after a failover and ends sessions meanwhile: ask until one answers.
  let nodes: { node_id: string; status: string; role: string }[] | undefined;
  for (let i = 0; i < 100 && !nodes; i++) {
    nodes = await trySql<{ node_id: string; status: string; role: string }>(
      lab,
      { host: lab.poolAddress, port: lab.pool.sqlPort },
      'show pool_nodes',
    );
    if (!nodes) await sleep(100);
  }
  if (!nodes) throw new Error('the pool never answered after the failover');
  expect(nodes.map((n) => [n.node_id, n.status, n.role])).toEqual([
    ['0', 'down', expect.any(String)], // role of a down node is stale
    ['1', 'up', 'primary'],
  ]);

  // Down: every process we started is gone, and so is every file.
  const started = [
    ...(await Promise.all(lab.hosts.map((h) => pidIn(join(h.sshdDir, 'sshd.pid'))))),
    await pidIn(lab.pool.pidFile),
    await pidIn(join(standby.dataDir, 'postmaster.pid')),
  ];
  expect(started.every(isAlive)).toBe(true);
  const down = labCli('down');
  expect(down.code).toBe(0);
  expect(started.filter(isAlive)).toEqual([]);
  expect(await labProcesses(lab)).toEqual([]);
  expect(existsSync(root)).toBe(false);
  const endpoints: Array<[string, number]> = [
    [lab.poolAddress, lab.pool.sqlPort],
    [lab.poolAddress, lab.pool.pcpPort],
    ...lab.hosts.flatMap((h): Array<[string, number]> => [
      [h.address, lab.sshPort],
      [h.address, lab.sqlPort],
    ]),
  ];
  for (const [host, port] of endpoints) {
    expect([host, port, await portAnswers(host, port)]).toEqual([host, port, false]);
  }
  // And a second down is a no-op, not an error.
  expect(labCli('down')).toMatchObject({ code: 0 });
}, 300_000);
