import { posix } from 'node:path';
import type { Target } from '../../core/plan';
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
import { parsePoolNodes, poolNodesProbe } from '../../probes/pool-nodes';
import type { ArgvProbe, Parsed, Row, SqlProbe } from '../../probes/probe';
import { parseDatabaseSize, instanceSizeSql } from '../../probes/database-size';
import { parseRecoveryState, recoveryStateSql } from '../../probes/recovery-state';
import { parseReplication, replicationSql } from '../../probes/replication';
import { parseServerVersion, serverVersionSql } from '../../probes/server-version';
import { parseSettings, settingsSql } from '../../probes/settings';
import { parseSlots, slotsSql } from '../../probes/slots';
import { cmd } from '../../shell/shell-command';
import type { AddNodeParams } from './add-node-params';
import {
  hbaReplicationMethod,
  managerBackends,
  shellArrayValues,
  usesBackendApplicationName,
  type AddNodeSnapshot,
  type FileFact,
  type HaModuleFact,
  type ManagerFacts,
  type NodeFacts,
  type PrimaryFacts,
} from './add-node-snapshot';

// Reads the cluster and the new host, read-only, through the same connector the executor uses.
// Whatever does not answer becomes a recorded fact (null / error) for preflight to judge: this
// never throws for an unreachable node.

const TIMEOUT = 20_000;

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const value = <T>(p: Parsed<T>): T | null => (p.ok ? p.value : null);

export class SnapshotReader {
  constructor(
    private readonly connector: Connector,
    private readonly dialect: Dialect,
  ) {}

  async rows(target: Target, probe: SqlProbe): Promise<Row[]> {
    const client = await this.connector.sql(target);
    return (await client.query(probe.sql, probe.params, { signal: AbortSignal.timeout(TIMEOUT) })).rows;
  }

  async run(target: Target, probe: ArgvProbe) {
    const shell = await this.connector.shell(target);
    return shell.exec(cmd(...(probe.argv as [string, ...string[]])), {
      signal: AbortSignal.timeout(TIMEOUT),
    });
  }

  async file(target: Target, path: string): Promise<{ fact: FileFact; text: string | null }> {
    const f = await (await this.connector.files(target)).read(path, AbortSignal.timeout(TIMEOUT));
    return { fact: { path, sha256: f?.sha256 ?? null }, text: f ? f.content.toString('utf8') : null };
  }

  async haModule(target: Target, path: string): Promise<HaModuleFact | null> {
    const { fact, text } = await this.file(target, path).catch(() => ({
      fact: { path, sha256: null },
      text: null,
    }));
    if (text === null) return null;
    return {
      ...fact,
      allIps: shellArrayValues(text, 'KB_ALL_IP'),
      hasNodeName: /^\s*NODE_NAME\s*=/m.test(text),
    };
  }

  get d(): Dialect {
    return this.dialect;
  }

  /** Opens (and keeps) the SSH session: the reachability check with the pinned host key. */
  async connectorShell(target: Target): Promise<void> {
    await this.connector.shell(target);
  }
}

const nodeTarget = (n: { name: string; host: string; sshPort: number; sqlPort: number }): Target => ({
  name: n.name,
  host: n.host,
  sshPort: n.sshPort,
  sqlPort: n.sqlPort,
});

async function nodeFacts(
  r: SnapshotReader,
  params: AddNodeParams,
  n: AddNodeParams['cluster']['nodes'][number],
): Promise<NodeFacts> {
  const t = nodeTarget(n);
  const d = r.d;
  let inRecovery: boolean | null = null;
  let error: string | undefined;
  try {
    inRecovery = value(parseRecoveryState(await r.rows(t, recoveryStateSql(d))));
  } catch (err) {
    error = errorText(err);
  }
  const hbaPath = posix.join(n.dataDir, d.files.hbaConf);
  const hba = await r.file(t, hbaPath).catch((err: unknown) => {
    error ??= errorText(err);
    return { fact: { path: hbaPath, sha256: null }, text: null };
  });
  const isManager = params.cluster.manager?.nodes.some((m) => m.node === n.name) ?? false;
  return {
    name: n.name,
    host: n.host,
    sshPort: n.sshPort,
    sqlPort: n.sqlPort,
    dataDir: n.dataDir,
    binDir: n.binDir,
    clusterPath: n.clusterPath,
    inRecovery,
    ...(error !== undefined && { error }),
    hba: { ...hba.fact, authMethod: hba.text === null ? null : hbaReplicationMethod(hba.text) },
    haModule: await r.haModule(t, posix.join(n.clusterPath, 'db', 'etc', 'HAmodule.conf')),
    ...(isManager && {
      managerHaModule: await r.haModule(
        t,
        posix.join(n.clusterPath, 'kingbasecluster', 'etc', 'HAmodule.conf'),
      ),
    }),
  };
}

async function primaryFacts(r: SnapshotReader, node: NodeFacts): Promise<PrimaryFacts> {
  const t = nodeTarget(node);
  const d = r.d;
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

async function managerFacts(r: SnapshotReader, params: AddNodeParams): Promise<ManagerFacts[]> {
  const mgr = params.cluster.manager;
  if (!mgr) return [];
  const out: ManagerFacts[] = [];
  for (const m of mgr.nodes) {
    const node = params.cluster.nodes.find((n) => n.name === m.node)!;
    const sqlTarget: Target = {
      ...nodeTarget(node),
      sqlPort: m.sqlPort,
      sqlHost: m.host,
      name: `pool-${m.node}`,
    };
    let error: string | undefined;
    const conf = await r.file(nodeTarget(node), m.configFile).catch((err: unknown) => {
      error = `cannot read ${m.configFile}: ${errorText(err)}`;
      return { fact: { path: m.configFile, sha256: null }, text: null };
    });
    const pool = await r.rows(sqlTarget, poolNodesProbe).then(
      (rows) => value(parsePoolNodes(rows)),
      (err: unknown) => {
        error ??= `pool on ${m.host}:${m.sqlPort} did not answer: ${errorText(err)}`;
        return null;
      },
    );
    out.push({
      node: m.node,
      host: m.host,
      sqlPort: m.sqlPort,
      pcpPort: m.pcpPort,
      configFile: m.configFile,
      config: conf.fact,
      backends: conf.text === null ? [] : managerBackends(conf.text),
      usesApplicationName: conf.text !== null && usesBackendApplicationName(conf.text),
      poolNodes:
        pool?.map((p) => ({
          nodeId: p.nodeId,
          hostname: p.hostname,
          port: p.port,
          status: p.status,
          role: p.role,
          lbWeight: p.lbWeight,
        })) ?? null,
      ...(error !== undefined && { error }),
    });
  }
  return out;
}

async function newHostFacts(r: SnapshotReader, p: AddNodeParams): Promise<AddNodeSnapshot['newHost']> {
  const t = nodeTarget({ name: p.name, host: p.host, sshPort: p.sshPort, sqlPort: p.sqlPort });
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
    await r.connectorShell(t);
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
  const version = value(parseSoftwareVersion(await run(softwareVersionProbe(r.d, p.binDir))));
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
    etcServerConf: await fileOrNull(etc(r.d.files.serverConf)),
    recoveryDone: await fileOrNull(etc('recovery.done')),
    logDirExists:
      (await run({ kind: 'ssh', argv: ['test', '-d', posix.join(p.clusterPath, 'log')] })).exitCode === 0,
    ...(r.d.caps.copyClusterFiles && { clusterFilesPresent: await present(run, p.clusterPath) }),
  };
}

/** The copy step's targets that already exist on the new host (its undo would remove them). */
async function present(run: (probe: ArgvProbe) => Promise<{ exitCode: number | null }>, clusterPath: string) {
  const out: string[] = [];
  for (const rel of COPIED) {
    if ((await run({ kind: 'ssh', argv: ['test', '-e', posix.join(clusterPath, rel)] })).exitCode === 0)
      out.push(rel);
  }
  return out;
}

const COPIED = ['db/bin', 'db/etc', 'db/lib', 'db/share', 'template.bk', 'archivedir'] as const;

export async function gatherAddNodeSnapshot(
  params: AddNodeParams,
  dialect: Dialect,
  connector: Connector,
  now: Date,
): Promise<AddNodeSnapshot> {
  const r = new SnapshotReader(connector, dialect);
  const nodes: NodeFacts[] = [];
  for (const n of params.cluster.nodes) nodes.push(await nodeFacts(r, params, n));
  const primaries = nodes.filter((n) => n.inRecovery === false);
  return {
    takenAt: now.toISOString(),
    nodes,
    primary: primaries.length === 1 ? await primaryFacts(r, primaries[0]!) : null,
    managers: await managerFacts(r, params),
    newHost: await newHostFacts(r, params),
  };
}
