import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Client } from 'pg';
import { listProcesses } from '../../../lab/lab-down';
import { run } from '../../../lab/lab-exec';
import type { LabHost, LabLayout } from '../../../lab/lab-layout';
import { PG_BIN } from '../../../lab/lab-packages';
import { lookupUser, readPassword } from '../../../lab/lab-state';

// What a rollback must put back, read from a private lab's hosts themselves (they share this
// machine's filesystem) and over SQL, never through kbops. Two snapshots compare with toEqual.
//
// Files: every host's cluster tree (cluster/ESHA: db/etc, db/bin, kingbasecluster/…) byte for byte
// (sha256, mode, owner; the text of the config files so a failure shows the diff). Not descended:
//   - log/ directories: server and pgpool logs grow on their own (and kbops's start log stays there);
//   - run/ directories: listed by name only (pid file, sockets, pgpool_status are runtime state);
//   - .kbops/ (kbops's work directory): its files, not the directory itself;
//   - data directories: their top-level entries (a stray backup or standby.signal shows) and their
//     config files byte for byte; the rest of a live data directory changes by itself.
// SQL: slots on every existing node, the primary's pg_stat_replication, marker tables, recovery
// state. Processes: whether a server runs on each host (pg_ctl status) and anything still running
// from the new host's tree (a server, a base backup). Pool: `show pool_nodes` rows of the backends
// pgpool.conf configures; see `comparable` for the rows it no longer configures.

const TEXT_FILES = new Set([
  'pg_hba.conf',
  'postgresql.conf',
  'postgresql.auto.conf',
  'HAmodule.conf',
  'pgpool.conf',
]);
const DATA_CONFIG = ['pg_hba.conf', 'pg_ident.conf', 'postgresql.conf', 'postgresql.auto.conf'];

export interface FileState {
  readonly sha256: string;
  readonly mode: string;
  readonly owner: string;
  readonly text?: string;
}

export type TreeEntry = FileState | string; // a string: 'dir 755', 'symlink -> …', 'socket', 'runtime file'

export interface PoolNode {
  readonly node_id: string;
  readonly hostname: string;
  readonly port: string;
  readonly status: string;
  readonly role: string;
  readonly pg_status: string | undefined;
  readonly pg_role: string | undefined;
  /** This backend's share of the configured backends' lb_weight (pgpool normalises over all it holds). */
  readonly lb_share: string;
}

export interface LabSnapshot {
  readonly files: Readonly<Record<string, TreeEntry>>;
  readonly dataDirs: Readonly<
    Record<string, 'absent' | { entries: string[]; config: Record<string, FileState | 'absent'> }>
  >;
  readonly serverRunning: Readonly<Record<string, boolean>>;
  readonly newHostProcesses: readonly string[];
  readonly inRecovery: Readonly<Record<string, boolean>>;
  readonly slots: Readonly<Record<string, readonly Record<string, unknown>[]>>;
  readonly replication: readonly Record<string, unknown>[];
  readonly markers: Readonly<Record<string, readonly string[]>>;
  readonly poolNodes: readonly PoolNode[];
  /** Rows pgpool still holds in memory for backends its config no longer has (after a rollback). */
  readonly strayPoolNodes: readonly { node_id: string; hostname: string; status: string }[];
}

async function fileState(path: string, withText: boolean): Promise<FileState> {
  const [content, st] = await Promise.all([readFile(path), lstat(path)]);
  return {
    sha256: createHash('sha256').update(content).digest('hex'),
    mode: (st.mode & 0o7777).toString(8),
    owner: `${st.uid}:${st.gid}`,
    ...(withText && { text: content.toString('utf8') }),
  };
}

async function walk(
  lab: LabLayout,
  dir: string,
  skip: ReadonlySet<string>,
  out: Record<string, TreeEntry>,
  namesOnly = false,
): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    const key = relative(lab.root, path);
    if (skip.has(path)) continue;
    if (e.isSymbolicLink()) out[key] = `symlink -> ${await readlink(path)}`;
    else if (e.isDirectory()) {
      // kbops's own work directory (markers, backups) is listed by its contents only: an empty one
      // left after a clean rollback equals none, while any marker or backup left behind shows.
      if (e.name !== '.kbops') out[key] = `dir ${((await lstat(path)).mode & 0o7777).toString(8)}`;
      if (e.name === 'log') continue;
      await walk(lab, path, skip, out, namesOnly || e.name === 'run');
    } else if (e.isSocket()) out[key] = 'socket';
    else if (namesOnly) out[key] = 'runtime file';
    else out[key] = await fileState(path, TEXT_FILES.has(e.name));
  }
}

async function dataDir(host: LabHost, isNew: boolean): Promise<LabSnapshot['dataDirs'][string]> {
  if (!existsSync(host.dataDir)) return 'absent';
  const entries = (await readdir(host.dataDir)).sort();
  const config: Record<string, FileState | 'absent'> = {};
  for (const f of DATA_CONFIG) {
    const path = join(host.dataDir, f);
    // The new node's copies can hold the password (primary_conninfo): checksums only.
    config[f] = existsSync(path) ? await fileState(path, !isNew) : 'absent';
  }
  return { entries, config };
}

async function query<T extends Record<string, unknown>>(
  lab: LabLayout,
  host: string,
  port: number,
  database: string,
  sql: string,
): Promise<T[]> {
  const c = new Client({ host, port, user: lab.dbUser, database, password: await readPassword(lab) });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

async function pool(lab: LabLayout): Promise<Pick<LabSnapshot, 'poolNodes' | 'strayPoolNodes'>> {
  const conf = await readFile(lab.pool.conf, 'utf8');
  const configured = new Set([...conf.matchAll(/^\s*backend_hostname(\d+)\s*=/gm)].map((m) => m[1]!));
  // pgpool restarts its children after an attach, detach or reload (a rollback's last steps): a
  // connection it takes then may be cut. Only such cuts are retried, for a few seconds.
  let rows: Record<string, string>[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      rows = await query<Record<string, string>>(
        lab,
        lab.poolAddress,
        lab.pool.sqlPort,
        'postgres',
        'show pool_nodes',
      );
      break;
    } catch (err) {
      const cut = /terminated unexpectedly|ECONNRESET|ECONNREFUSED|closed the connection/i.test(String(err));
      if (!cut || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const mine = rows.filter((r) => configured.has(r.node_id!));
  const total = mine.reduce((s, r) => s + Number(r.lb_weight), 0);
  return {
    poolNodes: mine.map((r) => ({
      node_id: r.node_id!,
      hostname: r.hostname!,
      port: r.port!,
      // `waiting` is `up` until a client has come through the pool since the node came up.
      status: r.status === 'waiting' ? 'up' : r.status!,
      role: r.role!,
      pg_status: r.pg_status,
      pg_role: r.pg_role,
      lb_share: (Number(r.lb_weight) / total).toFixed(3),
    })),
    strayPoolNodes: rows
      .filter((r) => !configured.has(r.node_id!))
      .map((r) => ({ node_id: r.node_id!, hostname: r.hostname!, status: r.status! })),
  };
}

/** Hosts 0 and 1 are the cluster (primary, standby); host 2 is the one being added. */
export async function snapshotLab(lab: LabLayout): Promise<LabSnapshot> {
  const user = await lookupUser(lab.osUser);
  if (!user) throw new Error(`OS user ${lab.osUser} is missing: is the lab up?`);
  const [primary, standby, fresh] = lab.hosts;
  const existing = [primary, standby];

  const files: Record<string, TreeEntry> = {};
  const skip = new Set(lab.hosts.map((h) => h.dataDir));
  for (const h of lab.hosts) await walk(lab, h.clusterPath, skip, files);

  const dataDirs: Record<string, LabSnapshot['dataDirs'][string]> = {};
  const serverRunning: Record<string, boolean> = {};
  for (const h of lab.hosts) {
    dataDirs[h.name] = await dataDir(h, h === fresh);
    const st = await run(join(PG_BIN, 'pg_ctl'), ['status', '-D', h.dataDir], {
      as: user,
      allowFailure: true,
    });
    serverRunning[h.name] = st.code === 0;
  }
  const newHostProcesses = (await listProcesses())
    .filter((p) => p.pid !== process.pid && p.cmdline.includes(`${fresh.clusterPath}/`))
    .map((p) => p.cmdline)
    .sort();

  const on = <T extends Record<string, unknown>>(h: LabHost, sql: string, db = 'postgres') =>
    query<T>(lab, h.address, lab.sqlPort, db, sql);
  const inRecovery: Record<string, boolean> = {};
  const slots: Record<string, Record<string, unknown>[]> = {};
  const markers: Record<string, string[]> = {};
  for (const h of existing) {
    inRecovery[h.name] = (await on<{ r: boolean }>(h, 'select pg_is_in_recovery() as r'))[0]!.r;
    slots[h.name] = await on(
      h,
      'select slot_name, slot_type, active from pg_replication_slots order by slot_name',
    );
    const m = await on<{ relname: string }>(
      h,
      "select relname from pg_class where relname like 'kbops\\_marker\\_%' order by relname",
      lab.database,
    );
    markers[h.name] = m.map((r) => r.relname);
  }
  const replication = await on(
    primary,
    'select application_name, state from pg_stat_replication order by application_name',
  );
  return {
    files,
    dataDirs,
    serverRunning,
    newHostProcesses,
    inRecovery,
    slots,
    replication,
    markers,
    ...(await pool(lab)),
  };
}

/**
 * The part of a snapshot a rollback must restore exactly. Left out: the rows pgpool keeps in memory
 * for a backend that was attached and then detached and removed from its config. pgpool-II cannot
 * forget a backend without a restart (a reload does not), so such a row stays, `down`, and never
 * gets a query; callers check that with `strayPoolNodes`. The config file itself is compared.
 */
export function comparable(s: LabSnapshot): Omit<LabSnapshot, 'strayPoolNodes'> {
  const { strayPoolNodes: _stray, ...rest } = s;
  return rest;
}
