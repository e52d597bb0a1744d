import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { isAlive, run, sleep, waitFor, type RunAs, type RunResult } from '../../../lab/lab-exec';
import type { LabHost, LabLayout } from '../../../lab/lab-layout';
import { PG_BIN } from '../../../lab/lab-packages';
import { lookupUser, readPassword } from '../../../lab/lab-state';
import { poolPid } from '../../../lab/lab-up';

// Small hands for tests that break a lab on purpose and mend it again: run as the lab's OS user,
// SQL on one host, PCP, stop and start a server or the pool. Argv only, never a shell string.

export async function labUser(lab: LabLayout): Promise<RunAs> {
  const user = await lookupUser(lab.osUser);
  if (!user) throw new Error(`OS user ${lab.osUser} does not exist: is the lab up?`);
  return user;
}

/** Runs a program as the lab's OS user (kingbase); throws on a non-zero exit. */
export async function runAsLabUser(
  lab: LabLayout,
  file: string,
  args: readonly string[],
  env?: Readonly<Record<string, string>>,
): Promise<RunResult> {
  return run(file, args, { as: await labUser(lab), ...(env && { env }) });
}

/**
 * One SQL statement as the lab's superuser. Unlike lab-state's labSql, a connection the server
 * resets (pgpool restarts its children on attach and detach) rejects the query instead of
 * emitting an unhandled 'error' that fails whichever test runs.
 */
export async function labQuery<T extends Record<string, unknown>>(
  lab: LabLayout,
  at: { host: string; port: number },
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({
    ...at,
    user: lab.dbUser,
    database: 'postgres',
    password: await readPassword(lab),
    connectionTimeoutMillis: 5000,
  });
  client.on('error', () => undefined); // the pending query or connect rejects with it
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const tryQuery = <T extends Record<string, unknown>>(
  ...args: Parameters<typeof labQuery>
): Promise<T[] | undefined> => labQuery<T>(...args).catch(() => undefined);

/** One SQL statement on one lab host's server. */
export const sqlOn = <T extends Record<string, unknown>>(
  lab: LabLayout,
  host: LabHost,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> => labQuery<T>(lab, { host: host.address, port: lab.sqlPort }, sql, params);

export interface PoolNodeRow extends Record<string, unknown> {
  readonly node_id: string;
  readonly hostname: string;
  readonly status: string;
}

/** `show pool_nodes` through the lab's pool; undefined when the pool does not answer. */
export const poolNodes = (lab: LabLayout): Promise<PoolNodeRow[] | undefined> =>
  tryQuery<PoolNodeRow>(lab, { host: lab.poolAddress, port: lab.pool.sqlPort }, 'show pool_nodes');

export async function waitPoolNode(
  lab: LabLayout,
  nodeId: number,
  statuses: readonly string[],
): Promise<void> {
  await waitFor(
    `pool node ${nodeId} to be ${statuses.join(' or ')}`,
    async () => {
      const row = (await poolNodes(lab))?.find((r) => Number(r.node_id) === nodeId);
      return row !== undefined && statuses.includes(row.status);
    },
    30_000,
  );
}

/** pcp_attach_node / pcp_detach_node with the lab's pcppass file. */
export async function pcpNode(lab: LabLayout, action: 'attach' | 'detach', nodeId: number): Promise<void> {
  await runAsLabUser(
    lab,
    `/usr/sbin/pcp_${action}_node`,
    ['-h', lab.poolAddress, '-p', String(lab.pool.pcpPort), '-U', lab.dbUser, '-w', '-n', String(nodeId)],
    { PCPPASSFILE: lab.secrets.pcppass },
  );
}

export async function stopPostgres(lab: LabLayout, host: LabHost): Promise<void> {
  await runAsLabUser(lab, join(PG_BIN, 'pg_ctl'), [
    'stop',
    '-D',
    host.dataDir,
    '-m',
    'fast',
    '-w',
    '-t',
    '30',
  ]);
}

/** Starts a host's server the way lab-up does (with -l, so pg_ctl returns). */
export async function startPostgres(lab: LabLayout, host: LabHost): Promise<void> {
  await runAsLabUser(lab, join(PG_BIN, 'pg_ctl'), [
    'start',
    '-w',
    '-t',
    '60',
    '-D',
    host.dataDir,
    '-l',
    join(host.logDir, 'kingbase.log'),
  ]);
}

/** Waits until the primary (hosts[0]) shows `standby` streaming by its application_name (or not at all). */
export async function waitStreaming(lab: LabLayout, standby: LabHost, streaming = true): Promise<void> {
  await waitFor(`${standby.name} ${streaming ? 'streaming' : 'gone from pg_stat_replication'}`, async () => {
    const rows = await tryQuery<{ state: string }>(
      lab,
      { host: lab.hosts[0].address, port: lab.sqlPort },
      'select state from pg_stat_replication where application_name = $1',
      [standby.name],
    );
    return streaming ? rows?.[0]?.state === 'streaming' : rows?.length === 0;
  });
}

/** Stops the lab's pgpool (fast shutdown, SIGINT) by the PID in its pid file; returns that PID. */
export async function stopPool(lab: LabLayout): Promise<number> {
  const pid = await poolPid(lab);
  if (pid === undefined) throw new Error('pgpool is not running');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 200 && isAlive(pid); i++) await sleep(50);
  if (isAlive(pid)) throw new Error(`pgpool ${pid} still runs 10 s after SIGINT`);
  return pid;
}

/** The `type base64` key that the lab's known_hosts pins for an address (port 22 form). */
export async function pinnedKey(lab: LabLayout, address: string): Promise<string> {
  const line = (await readFile(lab.ssh.knownHosts, 'utf8'))
    .split('\n')
    .find((l) => l.startsWith(`${address} `));
  if (!line) throw new Error(`no known_hosts line for ${address}`);
  return line.split(' ').slice(1, 3).join(' ');
}

/**
 * Rewrites a file's text, and gives back the function that puts the exact original back. The file
 * is overwritten in place, so its owner and mode stay.
 */
export async function editFile(path: string, edit: (text: string) => string): Promise<() => Promise<void>> {
  const original = await readFile(path);
  const edited = edit(original.toString('utf8'));
  if (edited === original.toString('utf8')) throw new Error(`the edit left ${path} unchanged`);
  await writeFile(path, edited);
  return () => writeFile(path, original);
}

/** Listens on address:port (as a server already there would) until the returned function is called. */
export async function listenOn(address: string, port: number): Promise<() => Promise<void>> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, resolve);
  });
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface FilledSlots {
  readonly max: number;
  readonly dummies: readonly string[];
  drop(): Promise<void>;
}

/** Takes every free replication slot of the primary (hosts[0]) with inactive dummies. */
export async function fillReplicationSlots(lab: LabLayout): Promise<FilledSlots> {
  const primary = lab.hosts[0];
  const [row] = await sqlOn<{ max_replication_slots: string }>(lab, primary, 'show max_replication_slots');
  const max = Number(row?.max_replication_slots);
  const used = (await sqlOn(lab, primary, 'select 1 from pg_replication_slots')).length;
  const dummies = Array.from({ length: max - used }, (_, i) => `kbops_test_dummy_${i}`);
  const drop = async () => {
    await sqlOn(
      lab,
      primary,
      'select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = any($1)',
      [dummies],
    );
  };
  try {
    for (const d of dummies) await sqlOn(lab, primary, 'select pg_create_physical_replication_slot($1)', [d]);
  } catch (err) {
    await drop();
    throw err;
  }
  return { max, dummies, drop };
}

/** Writes a copy of the lab's known_hosts in which `address` pins `key` instead (null: nothing). */
export async function knownHostsCopy(
  lab: LabLayout,
  path: string,
  address: string,
  key: string | null,
): Promise<void> {
  const lines = (await readFile(lab.ssh.knownHosts, 'utf8')).split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${address} `));
  if (at < 0) throw new Error(`no known_hosts line for ${address}`);
  if (key === null) lines.splice(at, 1);
  else lines[at] = `${address} ${key}`;
  await writeFile(path, lines.join('\n'));
}
