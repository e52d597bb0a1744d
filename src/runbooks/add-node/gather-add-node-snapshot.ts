import { posix } from 'node:path';
import { ClusterReader, errorText, valueOf as value } from '../../cluster/cluster-reader';
import type { NodeFacts } from '../../cluster/cluster-facts';
import { readManagerFacts, readNodesFacts } from '../../cluster/read-cluster-facts';
import { targetOf } from '../../cluster/target-of';
import type { Dialect } from '../../dialects/dialect';
import type { Connector } from '../../ports/connector';
import {
  cronProbes,
  dirStateProbe,
  diskFreeProbe,
  firewalldProbe,
  isListening,
  listenersProbe,
  parseCronRunning,
  parseDirState,
  parseDiskFree,
  parseFirewalld,
  parseListeners,
  parseSelinux,
  parseSoftwareVersion,
  selfAndAncestors,
  selinuxProbe,
  softwareVersionProbe,
} from '../../probes/host-probes';
import type { ArgvProbe } from '../../probes/probe';
import { parseDatabaseSize, instanceSizeSql } from '../../probes/database-size';
import { parseReplication, replicationSql } from '../../probes/replication';
import { parseServerVersion, serverVersionSql } from '../../probes/server-version';
import { parseSettings, settingsSql } from '../../probes/settings';
import { parseSlots, slotsSql } from '../../probes/slots';
import { COPIED_PATHS } from './add-node-cluster-steps';
import type { AddNodeParams } from './add-node-params';
import type { AddNodeSnapshot, PrimaryFacts } from './add-node-snapshot';

// Reads the cluster (as src/cluster reads any cluster), the primary's settings and the new host,
// read-only, through the same connector the executor uses. Whatever does not answer becomes a
// recorded fact (null / error) for preflight to judge: this never throws for an unreachable node.

async function primaryFacts(r: ClusterReader, node: NodeFacts): Promise<PrimaryFacts> {
  const t = targetOf(node);
  const d = r.dialect;
  const get = async <T>(f: () => Promise<T>): Promise<T | null> => f().catch(() => null);
  const settings = await get(async () => value(parseSettings(await r.rows(t, settingsSql(d)))));
  const num = (k: string) =>
    typeof settings?.[k]?.value === 'number' ? (settings[k]!.value as number) : null;
  const str = (k: string) => (settings?.[k] === undefined ? null : String(settings[k]!.value));
  const version = await get(async () => value(parseServerVersion(await r.rows(t, serverVersionSql))));
  const file = async (p: string) => (await get(() => r.file(t, p)))?.fact ?? { path: p, sha256: null };
  const etc = (f: string) => posix.join(node.clusterPath, 'db', 'etc', f);
  const etcServerConf = await file(etc(d.files.serverConf));
  const etcRecoveryDone = await file(etc('recovery.done'));
  return {
    name: node.name,
    serverMajor: version ? Number.parseFloat(version.pgMajor ?? version.major) || null : null,
    databaseBytes: await get(async () => value(parseDatabaseSize(await r.rows(t, instanceSizeSql(d))))),
    maxWalSenders: num('max_wal_senders'),
    maxReplicationSlots: num('max_replication_slots'),
    maxConnections: num('max_connections'),
    walLevel: str('wal_level'),
    listenAddresses: str('listen_addresses'),
    port: num('port'),
    serverConf: await file(posix.join(node.dataDir, d.files.serverConf)),
    autoConf: await file(posix.join(node.dataDir, d.files.autoConf)),
    etcServerConf: etcServerConf.sha256 === null ? null : etcServerConf,
    etcRecoveryDone: etcRecoveryDone.sha256 === null ? null : etcRecoveryDone,
    replication:
      (await get(async () => value(parseReplication(await r.rows(t, replicationSql(d)), d))))?.map((e) => ({
        applicationName: e.applicationName,
        state: e.state,
      })) ?? [],
    slots:
      (await get(async () => value(parseSlots(await r.rows(t, slotsSql(d))))))?.map((s) => ({
        name: s.name,
        active: s.active,
      })) ?? [],
  };
}

async function newHostFacts(r: ClusterReader, p: AddNodeParams): Promise<AddNodeSnapshot['newHost']> {
  const t = targetOf(p);
  const base = {
    name: p.name,
    host: p.host,
    sshPort: p.sshPort,
    sqlPort: p.sqlPort,
    dataDir: p.dataDir,
    binDir: p.binDir,
    clusterPath: p.clusterPath,
  };
  const unknown = {
    dataDirState: 'unknown' as const,
    sqlPortInUse: null,
    freeBytes: null,
    serverMajor: null,
    crondRunning: null,
    firewall: null,
    selinux: null,
    haModule: null,
    etcServerConf: null,
    recoveryDone: null,
    logDirExists: false,
  };
  try {
    await r.login(t);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return {
      ...base,
      ...unknown,
      reachable: false,
      sshError: errorText(err),
      ...(typeof code === 'string' && { sshErrorCode: code }),
    };
  }
  const run = (probe: ArgvProbe) => r.run(t, probe);
  const dir = parseDirState(await run(dirStateProbe(p.dataDir)));
  const listeners = value(parseListeners(await run(listenersProbe)));
  const disk = value(parseDiskFree(await run(diskFreeProbe(p.dataDir)), selfAndAncestors(p.dataDir)));
  const version = value(parseSoftwareVersion(await run(softwareVersionProbe(r.dialect, p.binDir))));
  const cron = value(parseCronRunning(await Promise.all(cronProbes.map(run))));
  const etc = (f: string) => posix.join(p.clusterPath, 'db', 'etc', f);
  const fileOrNull = async (path: string) => {
    const f = await r.file(t, path).catch(() => null);
    return f && f.fact.sha256 !== null ? f.fact : null;
  };
  return {
    ...base,
    reachable: true,
    dataDirState: dir.ok ? dir.value.state : 'unknown',
    ...(dir.ok && dir.value.state === 'non-empty' && { dataDirEntries: dir.value.entries }),
    sqlPortInUse: listeners === null ? null : isListening(listeners, p.host, p.sqlPort),
    freeBytes: disk?.availableBytes ?? null,
    serverMajor: version ? Number.parseFloat(version.pgMajor ?? version.major) || null : null,
    crondRunning: cron,
    firewall: parseFirewalld(await run(firewalldProbe)),
    selinux: value(parseSelinux(await run(selinuxProbe))),
    haModule: await r.haModule(t, etc('HAmodule.conf')),
    etcServerConf: await fileOrNull(etc(r.dialect.files.serverConf)),
    recoveryDone: await fileOrNull(etc('recovery.done')),
    logDirExists:
      (await run({ kind: 'ssh', argv: ['test', '-d', posix.join(p.clusterPath, 'log')] })).exitCode === 0,
    ...(r.dialect.caps.copyClusterFiles && { clusterFilesPresent: await present(run, p.clusterPath) }),
  };
}

/** The copy step's targets that already exist on the new host (its undo would remove them). */
async function present(run: (probe: ArgvProbe) => Promise<{ exitCode: number | null }>, clusterPath: string) {
  const out: string[] = [];
  for (const rel of COPIED_PATHS) {
    if ((await run({ kind: 'ssh', argv: ['test', '-e', posix.join(clusterPath, rel)] })).exitCode === 0)
      out.push(rel);
  }
  return out;
}

export async function gatherAddNodeSnapshot(
  params: AddNodeParams,
  dialect: Dialect,
  connector: Connector,
  now: Date,
): Promise<AddNodeSnapshot> {
  const r = new ClusterReader(connector, dialect);
  const nodes = await readNodesFacts(r, params.cluster);
  const primaries = nodes.filter((n) => n.inRecovery === false);
  return {
    takenAt: now.toISOString(),
    nodes,
    primary: primaries.length === 1 ? await primaryFacts(r, primaries[0]!) : null,
    managers: await readManagerFacts(r, params.cluster),
    newHost: await newHostFacts(r, params),
  };
}
