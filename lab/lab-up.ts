import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { LabHost, LabLayout } from './lab-layout';
import { isAlive, run, startDetached, waitFor, type RunAs } from './lab-exec';
import * as files from './lab-files';
import { ensurePackages, PG_BIN } from './lab-packages';
import { labSql, lookupUser, readState, trySql, writeState } from './lab-state';

// `npm run lab -- up`: idempotent. Each step looks before it acts, so a second `up` (or one after a
// half-finished first) converges without touching what is already right. Files are written only
// when absent, so a runbook's later edits (a new backend, a new hba line) survive a re-run.

type Say = (line: string) => void;

// Both tool name sets of the dialects: the PostgreSQL names and KingbaseES V8R3's sys_ names.
const TOOLS: ReadonlyArray<[string, string]> = [
  ['pg_ctl', 'pg_ctl'],
  ['sys_ctl', 'pg_ctl'],
  ['pg_basebackup', 'pg_basebackup'],
  ['sys_basebackup', 'pg_basebackup'],
  ['psql', 'psql'],
  ['ksql', 'psql'],
  ['pg_controldata', 'pg_controldata'],
  ['sys_controldata', 'pg_controldata'],
  ['pg_rewind', 'pg_rewind'],
  ['sys_rewind', 'pg_rewind'],
  ['pg_isready', 'pg_isready'],
  ['initdb', 'initdb'],
  ['postgres', 'postgres'],
];

async function writeIfAbsent(path: string, content: string, mode = 0o644, owner?: RunAs): Promise<void> {
  if (existsSync(path)) return;
  await writeFile(path, content, { mode });
  await chmod(path, mode); // umask must not loosen or tighten what we asked for
  if (owner) await chown(path, owner.uid, owner.gid);
}

async function mkdirOwned(path: string, owner: RunAs | undefined, mode = 0o755): Promise<void> {
  await mkdir(path, { recursive: true, mode });
  if (owner) await chown(path, owner.uid, owner.gid);
}

async function ensureUser(lab: LabLayout, say: Say): Promise<{ user: RunAs; created: boolean }> {
  let user = await lookupUser(lab.osUser);
  let created = false;
  if (!user) {
    say(`creating OS user ${lab.osUser}`);
    await run('useradd', ['--create-home', '--user-group', '--shell', '/bin/bash', lab.osUser]);
    user = await lookupUser(lab.osUser);
    created = true;
    if (!user) throw new Error(`useradd ${lab.osUser} succeeded but the user cannot be looked up`);
  }
  // sshd without PAM refuses a locked account ("!" in shadow); "*" means "no password" instead.
  const shadow = await run('getent', ['shadow', lab.osUser], { allowFailure: true });
  if (shadow.stdout.split(':')[1]?.startsWith('!')) {
    say(`unlocking ${lab.osUser} for key-only SSH (password field set to "*")`);
    await run('usermod', ['-p', '*', lab.osUser]);
  }
  return { user, created };
}

async function ensureKey(path: string, comment: string, owner?: RunAs): Promise<void> {
  if (!existsSync(path))
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  if (owner) {
    await chown(path, owner.uid, owner.gid);
    await chown(`${path}.pub`, owner.uid, owner.gid);
  }
}

const pubKey = async (path: string): Promise<string> =>
  (await readFile(`${path}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');

async function layoutHost(lab: LabLayout, host: LabHost, user: RunAs): Promise<void> {
  await mkdir(host.sshdDir, { recursive: true, mode: 0o755 });
  for (const dir of [host.clusterPath, join(host.clusterPath, 'db'), host.binDir, host.etcDir, host.logDir]) {
    await mkdirOwned(dir, user);
  }
  for (const dir of ['archivedir', 'run']) await mkdirOwned(join(host.clusterPath, dir), user);
  for (const [name, target] of TOOLS) {
    const link = join(host.binDir, name);
    if (!existsSync(link)) await symlink(join(PG_BIN, target), link);
  }
  await writeIfAbsent(join(host.etcDir, 'HAmodule.conf'), files.haModuleConf(lab, host), 0o644, user);
  await ensureKey(join(host.sshdDir, 'ssh_host_ed25519_key'), `lab-host-${host.name}`);
  await writeIfAbsent(join(host.sshdDir, 'sshd_config'), files.sshdConfig(lab, host));
}

const portOpen = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect({ host, port, timeout: 1000 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });

async function pidFrom(path: string): Promise<number | undefined> {
  try {
    // pgpool ends its pid file with a NUL byte; take the leading digits.
    const pid = Number(/^\s*(\d+)/.exec(await readFile(path, 'utf8'))?.[1]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export const sshdPid = async (host: LabHost): Promise<number | undefined> => {
  const pid = await pidFrom(join(host.sshdDir, 'sshd.pid'));
  return pid !== undefined && isAlive(pid) ? pid : undefined;
};

export const poolPid = async (lab: LabLayout): Promise<number | undefined> => {
  const pid = await pidFrom(lab.pool.pidFile);
  return pid !== undefined && isAlive(pid) ? pid : undefined;
};

async function startSshd(lab: LabLayout, host: LabHost): Promise<void> {
  if (await sshdPid(host)) return;
  if (await portOpen(host.address, lab.sshPort)) {
    throw new Error(
      `${host.address}:${lab.sshPort} is already taken (a system sshd on 0.0.0.0:${lab.sshPort}?): ` +
        `give it a ListenAddress, stop it, or set KBOPS_LAB_SSH_PORT to a free port`,
    );
  }
  const config = join(host.sshdDir, 'sshd_config');
  await run('/usr/sbin/sshd', ['-t', '-f', config]);
  await run('/usr/sbin/sshd', ['-f', config, '-E', join(host.sshdDir, 'sshd.log')]);
  await waitFor(`sshd on ${host.address}:${lab.sshPort}`, () => portOpen(host.address, lab.sshPort), 10_000);
}

const pgRunning = async (host: LabHost, user: RunAs): Promise<boolean> =>
  (await run(join(PG_BIN, 'pg_ctl'), ['status', '-D', host.dataDir], { as: user, allowFailure: true }))
    .code === 0;

async function startPostgres(host: LabHost, user: RunAs): Promise<void> {
  if (await pgRunning(host, user)) return;
  // Without -l, pg_ctl keeps the server's stderr and an SSH session running it never returns.
  await run(
    join(PG_BIN, 'pg_ctl'),
    ['start', '-w', '-t', '60', '-D', host.dataDir, '-l', join(host.logDir, 'kingbase.log')],
    { as: user },
  );
}

async function setupPrimary(lab: LabLayout, user: RunAs, say: Say): Promise<void> {
  const h = lab.hosts[0];
  if (!existsSync(join(h.dataDir, 'PG_VERSION'))) {
    say(`initdb ${h.name} (primary)`);
    await run('rm', ['-rf', '--', h.dataDir]); // a half-made data dir from an interrupted up
    await run(
      join(PG_BIN, 'initdb'),
      [
        '-D',
        h.dataDir,
        '-U',
        lab.dbUser,
        `--pwfile=${lab.secrets.password}`,
        '-A',
        'scram-sha-256',
        '-E',
        'UTF8',
        '--no-locale',
      ],
      { as: user },
    );
    const conf = join(h.dataDir, 'postgresql.conf');
    await writeFile(conf, `${await readFile(conf, 'utf8')}\n${files.postgresqlConf(lab, h)}`);
    await writeFile(join(h.dataDir, 'pg_hba.conf'), files.pgHbaConf(lab));
  }
  await startPostgres(h, user);
  const at = { host: h.address, port: lab.sqlPort };
  const db = await labSql(lab, at, 'select 1 from pg_database where datname = $1', [lab.database]);
  if (db.length === 0) await labSql(lab, at, `create database "${lab.database}"`);
  // The standby's slot exists before its base backup (the write-up's order loses WAL); the
  // primary keeps a slot named for itself too, as the V8R3 installer does.
  for (const [slot, reserve] of [
    [lab.hosts[0].slot, false],
    [lab.hosts[1].slot, true],
  ] as const) {
    await labSql(
      lab,
      at,
      'select pg_create_physical_replication_slot($1, $2) where not exists (select 1 from pg_replication_slots where slot_name = $1)',
      [slot, reserve],
    );
  }
}

async function setupStandby(lab: LabLayout, user: RunAs, say: Say): Promise<void> {
  const [primary, h] = lab.hosts;
  if (!existsSync(join(h.dataDir, 'PG_VERSION'))) {
    say(`base backup ${primary.name} → ${h.name} (standby)`);
    await run('rm', ['-rf', '--', h.dataDir]);
    await run(
      join(PG_BIN, 'pg_basebackup'),
      [
        '-h',
        primary.address,
        '-p',
        String(lab.sqlPort),
        '-U',
        lab.dbUser,
        '-D',
        h.dataDir,
        '-X',
        'stream',
        '-S',
        h.slot,
        '-c',
        'fast',
      ],
      { as: user, env: { PGPASSFILE: lab.secrets.pgpass } },
    );
    // The copy carries the primary's node-specific block: replace it with this node's.
    const conf = join(h.dataDir, 'postgresql.conf');
    const text = await readFile(conf, 'utf8');
    const cut = text.indexOf('# kbops lab settings');
    await writeFile(conf, `${cut >= 0 ? text.slice(0, cut) : text}${files.postgresqlConf(lab, h)}`);
    await writeFile(join(h.dataDir, 'standby.signal'), '');
    const auto = join(h.dataDir, 'postgresql.auto.conf');
    await writeFile(auto, `${await readFile(auto, 'utf8')}${files.standbySettings(lab, primary, h)}`);
    await run('chown', ['-R', `${user.uid}:${user.gid}`, h.dataDir]);
  }
  await startPostgres(h, user);
  await waitFor(`${h.name} streaming from ${primary.name}`, async () => {
    const rows = await trySql<{ state: string }>(
      lab,
      { host: primary.address, port: lab.sqlPort },
      'select state from pg_stat_replication where application_name = $1',
      [h.name],
    );
    return rows?.[0]?.state === 'streaming';
  });
}

async function setupPool(lab: LabLayout, user: RunAs, password: string, say: Say): Promise<void> {
  const p = lab.pool;
  for (const dir of [p.dir, join(p.dir, 'etc'), join(p.dir, 'bin'), join(p.dir, 'log'), p.runDir]) {
    await mkdirOwned(dir, user);
  }
  await writeIfAbsent(p.conf, files.pgpoolConf(lab), 0o644, user);
  await writeIfAbsent(p.hbaConf, files.poolHbaConf(), 0o644, user);
  await writeIfAbsent(p.passwd, files.poolPasswd(lab, password), 0o600, user);
  await writeIfAbsent(p.pcpConf, files.pcpConf(lab, password), 0o600, user);
  await writeIfAbsent(p.failoverScript, files.failoverScript(lab), 0o755, user);
  if (!(await poolPid(lab))) {
    say(`starting pgpool-II on ${lab.poolAddress}:${p.sqlPort}`);
    // -D: forget the last run's node states, so a restarted lab starts with every backend up.
    startDetached(
      '/usr/sbin/pgpool',
      ['-n', '-D', '-f', p.conf, '-F', p.pcpConf, '-a', p.hbaConf],
      p.logFile,
      user,
    );
  }
  await waitFor(
    'pgpool to list the lab backends up',
    async () => {
      const rows = await trySql<{ status: string }>(
        lab,
        { host: lab.poolAddress, port: p.sqlPort },
        'show pool_nodes',
      );
      // At least the lab's own two backends up (kbops may have added host 3 since).
      return rows !== undefined && rows.length >= 2 && rows.slice(0, 2).every((r) => r.status === 'up');
    },
    30_000,
  );
}

export async function labUp(lab: LabLayout, say: Say): Promise<void> {
  const started = Date.now();
  // Packages first: without root this names exactly what to install.
  await ensurePackages(say);
  if (process.getuid?.() !== 0) {
    throw new Error('the lab creates an OS user and runs sshd: run it as root (sudo npm run lab -- up)');
  }
  const previous = await readState(lab);
  await mkdir(lab.root, { recursive: true, mode: 0o755 });
  const { user, created } = await ensureUser(lab, say);
  const createdRunSshd = !existsSync('/run/sshd');
  if (createdRunSshd) await mkdir('/run/sshd', { mode: 0o755 });
  await writeState(lab, {
    version: 1,
    createdUser: (previous?.createdUser ?? false) || created,
    createdRunSshd: (previous?.createdRunSshd ?? false) || createdRunSshd,
  });

  await mkdir(lab.ssh.dir, { recursive: true, mode: 0o755 });
  await mkdirOwned(lab.secrets.dir, user, 0o700);
  await ensureKey(lab.ssh.clientKey, 'kbops-lab-client');
  await ensureKey(lab.ssh.peerKey, 'kbops-lab-kingbase', user);
  for (const host of lab.hosts) await layoutHost(lab, host, user);
  const keys = await Promise.all([lab.ssh.clientKey, lab.ssh.peerKey].map(pubKey));
  await writeIfAbsent(lab.ssh.authorizedKeys, `${keys.join('\n')}\n`);
  const hostKeys = await Promise.all(lab.hosts.map((h) => pubKey(join(h.sshdDir, 'ssh_host_ed25519_key'))));
  const hostName = (h: LabHost) => (lab.sshPort === 22 ? h.address : `[${h.address}]:${lab.sshPort}`);
  await writeIfAbsent(
    lab.ssh.knownHosts,
    lab.hosts.map((h, i) => `${hostName(h)} ${hostKeys[i]}\n`).join(''),
  );

  const password = existsSync(lab.secrets.password)
    ? (await readFile(lab.secrets.password, 'utf8')).trim()
    : randomBytes(18).toString('base64url');
  await writeIfAbsent(lab.secrets.password, `${password}\n`, 0o600, user);
  await writeIfAbsent(lab.secrets.pgpass, files.pgpassLine(lab, password), 0o600, user);
  await writeIfAbsent(lab.secrets.pcppass, files.pcpPass(lab, password), 0o600, user);

  for (const host of lab.hosts) await startSshd(lab, host);
  await setupPrimary(lab, user, say);
  await setupStandby(lab, user, say);
  await setupPool(lab, user, password, say);
  await writeIfAbsent(lab.inventoryPath, files.labInventory(lab));
  say(`lab up in ${((Date.now() - started) / 1000).toFixed(1)} s — inventory: ${lab.inventoryPath}`);
}
