import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInventory } from '../../../src/config/load-inventory';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import type { AddNodeParams } from '../../../src/runbooks/add-node/add-node-params';
import { addNodeRunbook } from '../../../src/runbooks/add-node/add-node-runbook';
import { resolveInput } from '../../../src/runbooks/prepare-run';
import {
  hbaReplicationMethod,
  managerBackends,
  shellArrayValues,
  usesBackendApplicationName,
  type HaModuleFact,
  type ManagerFacts,
  type NodeFacts,
} from '../../../src/cluster/cluster-facts';
import type { AddNodeSnapshot } from '../../../src/runbooks/add-node/add-node-snapshot';

// The write-up's cluster (../shared/seed/000_2ee91a2c37649b80.txt) as the planner saw it just before
// srv159 was added: srv127 primary, srv129 standby, kingbasecluster on both. Hand-built from the
// write-up's outputs; file facts come from the write-up's file texts through the snapshot's own
// extractors, and checksums are fixed fakes. The plan tests check it against the output fixtures.

export const ESHA = '/home/kingbase/cluster/ESHA';
export const DATA = `${ESHA}/db/data`;
export const BIN = `${ESHA}/db/bin`;
export const NEW_HOST = '192.168.4.159';
export const POOL_CONF = `${ESHA}/kingbasecluster/etc/kingbasecluster.conf`;

/** Fixed fake checksums: 64 hex digits, readable in a rendered plan (which shows the first 12). */
export const SHA = {
  hba127: 'a127'.repeat(16),
  hba129: 'a129'.repeat(16),
  ha127: 'e127'.repeat(16),
  ha129: 'e129'.repeat(16),
  managerHa127: 'ec27'.repeat(16),
  managerHa129: 'ec29'.repeat(16),
  conf: 'c0f1'.repeat(16),
  etcConf: 'ec0f'.repeat(16),
  etcRecoveryDone: 'ed0e'.repeat(16),
  pool127: 'b127'.repeat(16),
  pool129: 'b129'.repeat(16),
} as const;

/** sys_hba.conf on srv127 and srv129 before the expansion (write-up 1.3.4 without the .159 lines). */
export const SYS_HBA_BEFORE = [
  '# "local" is for Unix domain socket connections only',
  'local   all             all                                     md5',
  '# IPv4 local connections:',
  'host    all             all             127.0.0.1/32            md5',
  'host    all             all             0.0.0.0/0               md5',
  '# IPv6 local connections:',
  'host    all             all             ::1/128                 md5',
  'host    all             all             ::0/0                   md5',
  '# Allow replication connections from localhost, by a user with the',
  '# replication private',
  'host all SYSTEM 192.168.4.127/16 md5',
  'host all SYSTEM 192.168.4.129/16 md5',
  '',
  'host replication SYSTEM 192.168.4.127/16 md5',
  'host replication SYSTEM 192.168.4.129/16 md5',
  '',
].join('\n');

/** db/etc/HAmodule.conf (the write-up shows only KB_ALL_IP and KB_LOCALHOST_IP; the rest is its shape). */
export const haModuleText = (localIp: string): string =>
  [
    'KB_CLUSTER_NAME="ESHA"',
    'KB_ALL_IP=(192.168.4.127 192.168.4.129)',
    `KB_LOCALHOST_IP="${localIp}"`,
    `KB_PATH="${BIN}"`,
    `KB_DATA_PATH="${DATA}"`,
    'KB_PORT="54321"',
    '',
  ].join('\n');

/** The backend part of kingbasecluster.conf, numbered as the write-up's `show pool_nodes` shows them. */
export const KINGBASECLUSTER_CONF = [
  'port = 9999',
  'pcp_port = 9898',
  "backend_hostname0 = '192.168.4.129'",
  'backend_port0 = 54321',
  'backend_weight0 = 1',
  `backend_data_directory0 = '${DATA}'`,
  "backend_flag0 = 'ALLOW_TO_FAILOVER'",
  "backend_hostname1 = '192.168.4.127'",
  'backend_port1 = 54321',
  'backend_weight1 = 1',
  `backend_data_directory1 = '${DATA}'`,
  "backend_flag1 = 'ALLOW_TO_FAILOVER'",
  '',
].join('\n');

const haFact = (path: string, sha256: string, text: string): HaModuleFact => ({
  path,
  sha256,
  allIps: shellArrayValues(text, 'KB_ALL_IP'),
  hasNodeName: /^\s*NODE_NAME\s*=/m.test(text),
});

function node(
  name: string,
  host: string,
  inRecovery: boolean,
  sha: { hba: string; ha: string; mha: string },
) {
  const fact: NodeFacts = {
    name,
    host,
    sshPort: 22,
    sqlPort: 54321,
    dataDir: DATA,
    binDir: BIN,
    clusterPath: ESHA,
    inRecovery,
    hba: { path: `${DATA}/sys_hba.conf`, sha256: sha.hba, authMethod: hbaReplicationMethod(SYS_HBA_BEFORE) },
    haModule: haFact(`${ESHA}/db/etc/HAmodule.conf`, sha.ha, haModuleText(host)),
    managerHaModule: haFact(`${ESHA}/kingbasecluster/etc/HAmodule.conf`, sha.mha, haModuleText(host)),
  };
  return fact;
}

function manager(name: string, host: string, sha256: string): ManagerFacts {
  return {
    node: name,
    host,
    sqlPort: 9999,
    pcpPort: 9898,
    configFile: POOL_CONF,
    config: { path: POOL_CONF, sha256 },
    backends: managerBackends(KINGBASECLUSTER_CONF),
    usesApplicationName: usesBackendApplicationName(KINGBASECLUSTER_CONF),
    // write-up 1.1: show pool_nodes (both managers report the same cluster)
    poolNodes: [
      { nodeId: 0, hostname: '192.168.4.129', port: 54321, status: 'up', role: 'standby', lbWeight: 0.5 },
      { nodeId: 1, hostname: '192.168.4.127', port: 54321, status: 'up', role: 'primary', lbWeight: 0.5 },
    ],
  };
}

/** A fresh copy each call, so tests may spread and change it freely. */
export function writeupSnapshot(): AddNodeSnapshot {
  return {
    takenAt: '2020-10-23T11:30:00.000Z',
    nodes: [
      node('srv127', '192.168.4.127', false, { hba: SHA.hba127, ha: SHA.ha127, mha: SHA.managerHa127 }),
      node('srv129', '192.168.4.129', true, { hba: SHA.hba129, ha: SHA.ha129, mha: SHA.managerHa129 }),
    ],
    primary: {
      name: 'srv127',
      serverMajor: 9.6,
      databaseBytes: 2079583 * 1024, // write-up 1.3.1: 2079583/2079583 kB copied
      // write-up 1.3.3 (kingbase.conf); max_connections is not shown there: the 9.6 default
      maxWalSenders: 4,
      maxReplicationSlots: 4,
      maxConnections: 100,
      walLevel: 'replica',
      listenAddresses: '*',
      port: 54321,
      serverConf: { path: `${DATA}/kingbase.conf`, sha256: SHA.conf },
      autoConf: { path: `${DATA}/kingbase.auto.conf`, sha256: null },
      etcServerConf: { path: `${ESHA}/db/etc/kingbase.conf`, sha256: SHA.etcConf },
      etcRecoveryDone: { path: `${ESHA}/db/etc/recovery.done`, sha256: SHA.etcRecoveryDone },
      replication: [{ applicationName: 'srv129', state: 'streaming' }], // write-up 1.2
      slots: [
        // write-up 1.3.6 1)
        { name: 'slot_srv127', active: false },
        { name: 'slot_srv129', active: false },
      ],
    },
    managers: [
      manager('srv127', '192.168.4.127', SHA.pool127),
      manager('srv129', '192.168.4.129', SHA.pool129),
    ],
    newHost: {
      name: 'srv159',
      host: NEW_HOST,
      sshPort: 22,
      sqlPort: 54321,
      dataDir: DATA,
      binDir: BIN,
      clusterPath: ESHA,
      reachable: true,
      dataDirState: 'absent',
      sqlPortInUse: false,
      freeBytes: 50 * 1024 ** 3,
      serverMajor: 9.6,
      crondRunning: true,
      firewall: 'inactive',
      selinux: 'Disabled',
      // The cluster files (db/etc with HAmodule.conf, recovery.done…) come from the primary.
      haModule: null,
      etcServerConf: null,
      recoveryDone: null,
      logDirExists: false,
    },
  };
}

const EXAMPLE_INVENTORY = join(__dirname, '..', '..', '..', 'src', 'config', 'example-inventory.yaml');

/** The example inventory's ESHA cluster, normalised (no key or secret files are read). */
export async function writeupCluster(): Promise<ClusterConfig> {
  const r = await parseInventory(readFileSync(EXAMPLE_INVENTORY, 'utf8'), EXAMPLE_INVENTORY, {
    env: {},
    checkFiles: false,
  });
  if (!r.ok) throw new Error(`example inventory invalid: ${JSON.stringify(r.problems)}`);
  const cluster = r.inventory.clusters.ESHA;
  if (!cluster) throw new Error('example inventory has no cluster ESHA');
  return cluster;
}

/** `add-node --cluster ESHA --host 192.168.4.159`, through the real parameter parser. */
export function writeupParams(cluster: ClusterConfig, input: Record<string, unknown> = {}): AddNodeParams {
  const r = resolveInput(
    addNodeRunbook,
    { cluster: 'ESHA', host: NEW_HOST, ...input },
    { clusters: { ESHA: cluster }, reports: [] },
  );
  if (!r.ok) throw new Error(`bad params: ${r.failure.message}`);
  return r.params as AddNodeParams;
}
