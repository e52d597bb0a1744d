import { posix } from 'node:path';
import type { ClusterConfig, NodeConfig } from '../config/normalise-inventory';
import { parsePoolNodes, poolNodesProbe } from '../probes/pool-nodes';
import { parseRecoveryState, recoveryStateSql } from '../probes/recovery-state';
import {
  hbaReplicationMethod,
  managerBackends,
  usesBackendApplicationName,
  type ManagerFacts,
  type NodeFacts,
} from './cluster-facts';
import { errorText, valueOf, type ClusterReader } from './cluster-reader';
import { poolTargetOf, targetOf } from './target-of';

// The facts of a cluster's data nodes and managers that plans stand on: roles, the files plans edit
// (with their checksums) and each pool's backends. Never throws for a node that does not answer:
// that is a fact too.

export async function readNodeFacts(
  r: ClusterReader,
  cluster: ClusterConfig,
  n: NodeConfig,
): Promise<NodeFacts> {
  const t = targetOf(n);
  const d = r.dialect;
  let inRecovery: boolean | null = null;
  let error: string | undefined;
  try {
    inRecovery = valueOf(parseRecoveryState(await r.rows(t, recoveryStateSql(d))));
  } catch (err) {
    error = errorText(err);
  }
  const hbaPath = posix.join(n.dataDir, d.files.hbaConf);
  const hba = await r.file(t, hbaPath).catch((err: unknown) => {
    error ??= errorText(err);
    return { fact: { path: hbaPath, sha256: null }, text: null };
  });
  const isManager = cluster.manager?.nodes.some((m) => m.node === n.name) ?? false;
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

/** Every data node of the cluster, in inventory order. */
export async function readNodesFacts(r: ClusterReader, cluster: ClusterConfig): Promise<NodeFacts[]> {
  const out: NodeFacts[] = [];
  for (const n of cluster.nodes) out.push(await readNodeFacts(r, cluster, n));
  return out;
}

/** Each cluster manager: its configuration file (backends, checksum) and its pool's `show pool_nodes`. */
export async function readManagerFacts(r: ClusterReader, cluster: ClusterConfig): Promise<ManagerFacts[]> {
  const mgr = cluster.manager;
  if (!mgr) return [];
  const out: ManagerFacts[] = [];
  for (const m of mgr.nodes) {
    const node = cluster.nodes.find((n) => n.name === m.node)!;
    let error: string | undefined;
    const conf = await r.file(targetOf(node), m.configFile).catch((err: unknown) => {
      error = `cannot read ${m.configFile}: ${errorText(err)}`;
      return { fact: { path: m.configFile, sha256: null }, text: null };
    });
    const pool = await r.rows(poolTargetOf(node, m), poolNodesProbe).then(
      (rows) => valueOf(parsePoolNodes(rows)),
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
