import { posix } from 'node:path';
import type { FileFact, NodeLocation } from '../../cluster/cluster-facts';
import { ClusterReader, errorText, valueOf } from '../../cluster/cluster-reader';
import { defaultNodeName } from '../../cluster/node-paths';
import { readManagerFacts } from '../../cluster/read-cluster-facts';
import { targetOf } from '../../cluster/target-of';
import { clusterPathFor, type ClusterConfig } from '../../config/normalise-inventory';
import type { Dialect } from '../../dialects/dialect';
import type { Connector } from '../../ports/connector';
import { parseRecoveryState, recoveryStateSql } from '../../probes/recovery-state';
import { sqlProbe } from '../../probes/probe';
import { parseSettings, settingsSql } from '../../probes/settings';
import { cmd, stdinSecretToEnv } from '../../shell/shell-command';
import {
  failoverConfigOf,
  logDirOf,
  primaryOf,
  rewindNeedOf,
  type FailoverConfig,
  type FailoverFacts,
  type FailoverNode,
} from './failover-facts';
import type { FailoverParams } from './failover-params';

// Reads, and only reads, what a drill or a restore stands on. A node that does not answer is a
// fact for the preflight, never an exception. The data nodes are the inventory's plus the cluster
// manager's backends it does not list (a node added by add-node since the inventory was written).

/** The target replays within this many bytes of the primary, or the drill would lose more. */
const MAX_LAG_BYTES = 16 * 1024 * 1024;

function locations(cluster: ClusterConfig, failover: readonly FailoverConfig[]) {
  const known: (NodeLocation & { source: 'inventory' | 'pool' })[] = cluster.nodes.map((n) => ({
    name: n.name,
    host: n.host,
    sshPort: n.sshPort,
    sqlPort: n.sqlPort,
    dataDir: n.dataDir,
    binDir: n.binDir,
    clusterPath: n.clusterPath,
    source: 'inventory',
  }));
  const template = cluster.nodes[0]!;
  for (const b of failover[0]?.backends ?? []) {
    if (known.some((n) => n.host === b.host && n.sqlPort === b.port)) continue;
    const name = b.applicationName ?? defaultNodeName(b.host);
    const clusterPath = clusterPathFor(cluster.clusterPath, name);
    known.push({
      name,
      host: b.host,
      sshPort: template.sshPort,
      sqlPort: b.port,
      dataDir: b.dataDir ?? posix.join(clusterPath, 'db', 'data'),
      binDir: posix.join(clusterPath, 'db', 'bin'),
      clusterPath,
      source: 'pool',
    });
  }
  return known.map((n) => ({
    ...n,
    poolIndex: failover[0]?.backends.find((b) => b.host === n.host && b.port === n.sqlPort)?.index ?? null,
  }));
}

async function readNode(
  r: ClusterReader,
  d: Dialect,
  n: ReturnType<typeof locations>[number],
): Promise<FailoverNode> {
  const t = targetOf(n);
  const inData = (f: string) => posix.join(n.dataDir, f);
  let sshError: string | undefined;
  let running: boolean | null = null;
  try {
    const s = await r.run(t, {
      kind: 'ssh',
      argv: [posix.join(n.binDir, d.tools.ctl), 'status', '-D', n.dataDir],
    });
    running = s.exitCode === 0 ? true : s.exitCode === 3 ? false : null;
  } catch (err) {
    sshError = errorText(err);
  }
  let inRecovery: boolean | null = null;
  let sqlError: string | undefined;
  let rewindable: boolean | null = null;
  if (running !== false) {
    try {
      inRecovery = valueOf(parseRecoveryState(await r.rows(t, recoveryStateSql(d))));
      const s = valueOf(parseSettings(await r.rows(t, settingsSql(d, ['wal_log_hints', 'data_checksums']))));
      rewindable = s ? s.wal_log_hints?.value === true || s.data_checksums?.value === true : null;
    } catch (err) {
      sqlError = errorText(err);
    }
  } else sqlError = 'its server is stopped';
  const file = async (path: string): Promise<FileFact> =>
    sshError !== undefined
      ? { path, sha256: null }
      : (await r.file(t, path).catch(() => ({ fact: { path, sha256: null } }))).fact;
  const conf =
    sshError !== undefined
      ? null
      : (await r.file(t, inData(d.files.serverConf)).catch(() => ({ text: null }))).text;
  return {
    ...n,
    ...(conf !== null && { logDir: logDirOf(conf, n.dataDir) }),
    sshOk: sshError === undefined,
    ...(sshError !== undefined && { sshError }),
    running,
    inRecovery,
    ...(sqlError !== undefined && { sqlError }),
    rewindable,
    files: {
      standbySignal: await file(inData(d.files.standbySignal)),
      autoConf: await file(inData(d.files.autoConf)),
      recoveryConf: await file(inData(d.files.recoveryConf)),
      recoveryDone: d.caps.recoveryDone
        ? await file(posix.join(n.clusterPath, 'db', 'etc', 'recovery.done'))
        : null,
    },
  };
}

/** pg_rewind --dry-run against the primary: whether a stopped node can follow it as it is. */
async function dryRewind(
  connector: Connector,
  d: Dialect,
  cluster: ClusterConfig,
  node: FailoverNode,
  primary: FailoverNode,
): Promise<NonNullable<FailoverNode['rewind']>> {
  const source = `host=${primary.host} port=${primary.sqlPort} user=${cluster.db.user} dbname=${cluster.db.database}`;
  try {
    const shell = await connector.shell(targetOf(node));
    const argv = stdinSecretToEnv(d.passwordEnv, [
      posix.join(node.binDir, d.tools.rewind),
      '--dry-run',
      '-D',
      node.dataDir,
      `--source-server=${source}`,
    ]);
    const r = await shell.exec(cmd(...(argv as [string, ...string[]])), {
      stdin: `${await connector.secret('db.password')}\n`,
      signal: AbortSignal.timeout(60_000),
    });
    const said = `${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-3).join(' / ');
    return { need: rewindNeedOf(r.exitCode, said), said };
  } catch (err) {
    return { need: 'unknown', said: errorText(err) };
  }
}

export async function gatherFailoverFacts(
  params: FailoverParams,
  d: Dialect,
  connector: Connector,
  now: Date,
): Promise<FailoverFacts> {
  const r = new ClusterReader(connector, d);
  const cluster = params.cluster;
  const managers = await readManagerFacts(r, cluster);
  const failover: FailoverConfig[] = [];
  for (const m of cluster.manager?.nodes ?? []) {
    const host = cluster.nodes.find((n) => n.name === m.node)!;
    const { text } = await r.file(targetOf(host), m.configFile).catch(() => ({ text: null }));
    if (text !== null) failover.push(failoverConfigOf(m.node, text));
  }
  let nodes = await Promise.all(locations(cluster, failover).map((n) => readNode(r, d, n)));
  const partial: FailoverFacts = {
    takenAt: now.toISOString(),
    nodes,
    replication: null,
    slots: null,
    managers,
    failover,
    maxLagBytes: MAX_LAG_BYTES,
  };
  const primary = primaryOf(partial);
  if (!primary) return partial;
  const s = d.sql;
  const rows = await r
    .rows(
      targetOf(primary),
      sqlProbe(
        `select application_name, state, ${s.walPositionDiff}(${s.currentWalPosition}(), ${s.replayColumn})::bigint as lag from ${s.statReplication}`,
      ),
    )
    .catch(() => null);
  const slots = await r
    .rows(targetOf(primary), sqlProbe(`select slot_name from ${s.replicationSlots}`))
    .catch(() => null);
  if (params.phase === 'restore') {
    nodes = await Promise.all(
      nodes.map(async (n) =>
        n.running === false && n.sshOk
          ? { ...n, rewind: await dryRewind(connector, d, cluster, n, primary) }
          : n,
      ),
    );
  }
  return {
    ...partial,
    nodes,
    replication:
      rows?.map((row) => ({
        applicationName: String(row.application_name ?? ''),
        state: String(row.state ?? ''),
        lagBytes: row.lag === null || row.lag === undefined ? null : Number(row.lag),
      })) ?? null,
    slots: slots?.map((row) => String(row.slot_name)) ?? null,
  };
}
