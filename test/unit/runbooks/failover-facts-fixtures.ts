import { labLayout, type LabHost } from '../../../lab/lab-layout';
import { labInventory, pgpoolConf } from '../../../lab/lab-files';
import {
  managerBackends,
  usesBackendApplicationName,
  type FileFact,
  type ManagerFacts,
  type PoolNodeFact,
} from '../../../src/cluster/cluster-facts';
import { parseInventory } from '../../../src/config/load-inventory';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { resolveInput } from '../../../src/runbooks/prepare-run';
import { dialectFor } from '../../../src/dialects/dialect-for';
import {
  failoverConfigOf,
  type FailoverFacts,
  type FailoverNode,
  type ReplicationFact,
} from '../../../src/runbooks/failover-test/failover-facts';
import type { FailoverParams } from '../../../src/runbooks/failover-test/failover-params';
import { failoverTestRunbook } from '../../../src/runbooks/failover-test/failover-runbook';
import {
  BIN,
  DATA,
  ESHA,
  KINGBASECLUSTER_CONF,
  NEW_HOST,
  POOL_CONF,
  writeupCluster,
} from './writeup-snapshot';

// What the failover runbook's gather would find, hand-built, for its plan and preflight tests:
// (a) the write-up's V8R3 cluster (../shared/procedure §1) after add-node: srv127 primary, srv129 and
//     srv159 streaming standbys, kingbasecluster on srv127 and srv129 with backends 0 (srv129),
//     1 (srv127) and 2 (srv159, the one add-node appended) up; and the same cluster after a drill:
//     srv159 primary, srv127 and srv129 stopped, both able to follow it as they are.
// (b) the PostgreSQL lab (../lab: srv11 primary 127.0.0.11, srv12 standby, srv13 added; pgpool-II on
//     127.0.0.10:9999/9898 under node srv11), before and after a drill.
// The inventories list only the two original nodes: the added one is found as the manager's backend
// it does not list (source 'pool'), named and placed as the gather does. Checksums are fixed fakes.
// Every builder returns a fresh copy, so tests may spread and change it freely.

export const kb = dialectFor('kingbase-v8r3');
export const pg = dialectFor('postgresql');

/** Fixed fake checksums: 64 hex digits, recognisable in a rendered plan (which shows the first 12). */
const sha = (tag: string): string => tag.padEnd(4, '0').slice(0, 4).repeat(16);
/** sha256 of an empty file (standby.signal). */
export const EMPTY_SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const file = (path: string, sha256: string | null): FileFact => ({ path, sha256 });

/** One row of `show pool_nodes`, as readManagerFacts keeps it. */
const poolRow = (
  nodeId: number,
  hostname: string,
  port: number,
  status: string,
  role: string,
  lbWeight: number,
): PoolNodeFact => ({
  nodeId,
  hostname,
  port,
  status,
  role,
  lbWeight,
});

// ---------------------------------------------------------------------------------------------
// (a) The write-up's V8R3 cluster.

export const WRITEUP_TAKEN_AT = '2020-10-31T07:15:00.000Z';
export const WRITEUP_AFTER_DRILL_TAKEN_AT = '2020-10-31T07:40:00.000Z';

/**
 * kingbasecluster's failover settings. [I] The write-up does not show them: the V8R3 installer's
 * kingbasecluster.conf runs its failover_stream.sh on a failure (the script the write-up's §3 relies
 * on to promote srv159, named in its failover.log), with health checks every second.
 */
export const KB_FAILOVER_COMMAND = `${ESHA}/kingbasecluster/bin/failover_stream.sh %d %H %P %R`;
export const KB_HEALTH_CHECK_PERIOD = 1;

/** kingbasecluster.conf after add-node: the write-up's two backends plus backend 2, as add-node writes it. */
export const kingbaseclusterConf = (
  o: { failoverCommand?: string; healthCheckPeriod?: number | string; flag2?: string } = {},
): string =>
  [
    KINGBASECLUSTER_CONF.trimEnd(),
    `health_check_period = ${o.healthCheckPeriod ?? KB_HEALTH_CHECK_PERIOD}`,
    'health_check_timeout = 10',
    `failover_command = '${o.failoverCommand ?? KB_FAILOVER_COMMAND}'`,
    // add-node's pool-conf-srv127 / pool-conf-srv129 entries (test/golden/add-node-v8r3-writeup.txt)
    `backend_hostname2 = '${NEW_HOST}'`,
    'backend_port2 = 54321',
    'backend_weight2 = 1',
    `backend_data_directory2 = '${DATA}'`,
    `backend_flag2 = '${o.flag2 ?? 'ALLOW_TO_FAILOVER'}'`,
    '',
  ].join('\n');

const WRITEUP_HOSTS = {
  srv127: '192.168.4.127',
  srv129: '192.168.4.129',
  srv159: NEW_HOST,
} as const;
type WriteupName = keyof typeof WRITEUP_HOSTS;
/** Backend index of each node in kingbasecluster.conf (write-up 1.1: 0 is srv129, 1 srv127). */
const WRITEUP_INDEX: Record<WriteupName, number> = { srv129: 0, srv127: 1, srv159: 2 };

function writeupNode(
  name: WriteupName,
  state: { running: boolean; inRecovery: boolean | null; recoveryConf: boolean },
): FailoverNode {
  return {
    name,
    host: WRITEUP_HOSTS[name],
    sshPort: 22,
    sqlPort: 54321,
    dataDir: DATA,
    binDir: BIN,
    clusterPath: ESHA,
    source: name === 'srv159' ? 'pool' : 'inventory',
    poolIndex: WRITEUP_INDEX[name],
    sshOk: true,
    running: state.running,
    inRecovery: state.running ? state.inRecovery : null,
    ...(!state.running && { sqlError: 'its server is stopped' }),
    // [I] the V8R3 installer turns wal_log_hints on (its network_rewind.sh runs sys_rewind).
    rewindable: state.running ? true : null,
    files: {
      standbySignal: file(`${DATA}/standby.signal`, null),
      autoConf: file(`${DATA}/kingbase.auto.conf`, null),
      recoveryConf: file(`${DATA}/recovery.conf`, state.recoveryConf ? sha(`f${name.slice(3)}`) : null),
      recoveryDone: file(`${ESHA}/db/etc/recovery.done`, sha(`d${name.slice(3)}`)),
    },
  };
}

function writeupManager(node: 'srv127' | 'srv129', poolNodes: PoolNodeFact[]): ManagerFacts {
  const conf = kingbaseclusterConf();
  return {
    node,
    host: WRITEUP_HOSTS[node],
    sqlPort: 9999,
    pcpPort: 9898,
    configFile: POOL_CONF,
    config: file(POOL_CONF, sha(`b${node.slice(3)}`)),
    backends: managerBackends(conf),
    usesApplicationName: usesBackendApplicationName(conf),
    poolNodes,
  };
}

/** Replay lag of both standbys in the write-up's 1.3.8 (sent 0/ED000000, replayed 0/ECFFF418). */
export const WRITEUP_LAG_BYTES = 0xed000000 - 0xecfff418;

/** Before a drill: srv127 primary, srv129 and srv159 streaming, all three backends up in both pools. */
export function writeupFacts(): FailoverFacts {
  const pool = [
    poolRow(0, '192.168.4.129', 54321, 'up', 'standby', 0.333333),
    poolRow(1, '192.168.4.127', 54321, 'up', 'primary', 0.333333),
    poolRow(2, NEW_HOST, 54321, 'up', 'standby', 0.333333),
  ];
  return {
    takenAt: WRITEUP_TAKEN_AT,
    nodes: [
      writeupNode('srv127', { running: true, inRecovery: false, recoveryConf: false }),
      writeupNode('srv129', { running: true, inRecovery: true, recoveryConf: true }),
      writeupNode('srv159', { running: true, inRecovery: true, recoveryConf: true }),
    ],
    replication: [
      { applicationName: 'srv129', state: 'streaming', lagBytes: WRITEUP_LAG_BYTES },
      { applicationName: 'srv159', state: 'streaming', lagBytes: WRITEUP_LAG_BYTES },
    ],
    // write-up 1.3.6: the slots on the primary once srv159's was made
    slots: ['slot_srv127', 'slot_srv129', 'slot_srv159'],
    managers: [writeupManager('srv127', pool), writeupManager('srv129', pool)],
    failover: [
      failoverConfigOf('srv127', kingbaseclusterConf()),
      failoverConfigOf('srv129', kingbaseclusterConf()),
    ],
    maxLagBytes: 16 * 1024 * 1024,
  };
}

/**
 * After the drill (write-up §3.3): srv159 promoted (its recovery.conf became recovery.done), srv127
 * and srv129 stopped; sys_rewind --dry-run says both can follow srv159 as they are. srv159 has no
 * slots (a base backup does not copy them); nothing streams from it.
 */
export function writeupAfterDrillFacts(): FailoverFacts {
  const pool = [
    poolRow(0, '192.168.4.129', 54321, 'down', 'standby', 0.333333),
    poolRow(1, '192.168.4.127', 54321, 'down', 'standby', 0.333333),
    poolRow(2, NEW_HOST, 54321, 'up', 'primary', 0.333333),
  ];
  const notNeeded = {
    need: 'not-needed' as const,
    said: 'sys_rewind: servers diverged at WAL location 1/5603A9E8 on timeline 5 / sys_rewind: no rewind required',
  };
  return {
    takenAt: WRITEUP_AFTER_DRILL_TAKEN_AT,
    nodes: [
      {
        ...writeupNode('srv127', { running: false, inRecovery: null, recoveryConf: false }),
        rewind: notNeeded,
      },
      {
        ...writeupNode('srv129', { running: false, inRecovery: null, recoveryConf: true }),
        rewind: notNeeded,
      },
      writeupNode('srv159', { running: true, inRecovery: false, recoveryConf: false }),
    ],
    replication: [],
    slots: [],
    managers: [writeupManager('srv127', pool), writeupManager('srv129', pool)],
    failover: [
      failoverConfigOf('srv127', kingbaseclusterConf()),
      failoverConfigOf('srv129', kingbaseclusterConf()),
    ],
    maxLagBytes: 16 * 1024 * 1024,
  };
}

/** The example inventory's ESHA cluster (srv127, srv129; kingbasecluster on both), as writeup-snapshot reads it. */
export const writeupFailoverCluster = (): Promise<ClusterConfig> => writeupCluster();

// ---------------------------------------------------------------------------------------------
// (b) The PostgreSQL lab.

export const lab = labLayout({ root: '/var/lib/kbops-lab' });
const [h11, h12, h13] = lab.hosts;

export const LAB_TAKEN_AT = '2026-11-21T01:00:00.000Z';
export const LAB_AFTER_DRILL_TAKEN_AT = '2026-11-21T01:10:00.000Z';

/** The lab's pgpool.conf after add-node (backend 2, with its application_name, as add-node writes it). */
export const labPoolConf = (o: { failoverCommand?: string; healthCheckPeriod?: number } = {}): string => {
  let text = pgpoolConf(lab);
  if (o.failoverCommand !== undefined)
    text = text.replace(/^failover_command = .*$/m, `failover_command = '${o.failoverCommand}'`);
  if (o.healthCheckPeriod !== undefined)
    text = text.replace(/^health_check_period = .*$/m, `health_check_period = ${o.healthCheckPeriod}`);
  return [
    text.trimEnd(),
    `backend_hostname2 = '${h13.address}'`,
    `backend_port2 = ${lab.sqlPort}`,
    'backend_weight2 = 1',
    `backend_data_directory2 = '${h13.dataDir}'`,
    "backend_flag2 = 'ALLOW_TO_FAILOVER'",
    `backend_application_name2 = '${h13.name}'`,
    '',
  ].join('\n');
};

function labNode(
  h: LabHost,
  state: { running: boolean; inRecovery: boolean | null; standbySignal: boolean },
): FailoverNode {
  const tag = h.name.slice(3);
  return {
    name: h.name,
    host: h.address,
    sshPort: lab.sshPort,
    sqlPort: lab.sqlPort,
    dataDir: h.dataDir,
    binDir: h.binDir,
    clusterPath: h.clusterPath,
    source: h === h13 ? 'pool' : 'inventory',
    poolIndex: h.index,
    sshOk: true,
    running: state.running,
    inRecovery: state.running ? state.inRecovery : null,
    ...(!state.running && { sqlError: 'its server is stopped' }),
    rewindable: state.running ? true : null, // the lab's postgresql.conf: wal_log_hints = on
    files: {
      standbySignal: file(`${h.dataDir}/standby.signal`, state.standbySignal ? EMPTY_SHA : null),
      autoConf: file(`${h.dataDir}/postgresql.auto.conf`, sha(`a${tag}`)),
      recoveryConf: file(`${h.dataDir}/recovery.conf`, null),
      recoveryDone: null,
    },
  };
}

function labManager(poolNodes: PoolNodeFact[]): ManagerFacts {
  const conf = labPoolConf();
  return {
    node: h11.name,
    host: lab.poolAddress,
    sqlPort: lab.pool.sqlPort,
    pcpPort: lab.pool.pcpPort,
    configFile: lab.pool.conf,
    config: file(lab.pool.conf, sha('b011')),
    backends: managerBackends(conf),
    usesApplicationName: usesBackendApplicationName(conf),
    poolNodes,
  };
}

/** Before a drill: srv11 primary, srv12 and srv13 streaming, all three up in pgpool. */
export function labFacts(): FailoverFacts {
  const replication: ReplicationFact[] = [
    { applicationName: h12.name, state: 'streaming', lagBytes: 0 },
    { applicationName: h13.name, state: 'streaming', lagBytes: 0 },
  ];
  return {
    takenAt: LAB_TAKEN_AT,
    nodes: [
      labNode(h11, { running: true, inRecovery: false, standbySignal: false }),
      labNode(h12, { running: true, inRecovery: true, standbySignal: true }),
      labNode(h13, { running: true, inRecovery: true, standbySignal: true }),
    ],
    replication,
    slots: [h11.slot, h12.slot, h13.slot],
    managers: [
      labManager(
        [h11, h12, h13].map((h, i) =>
          poolRow(i, h.address, lab.sqlPort, 'up', i === 0 ? 'primary' : 'standby', 0.333333),
        ),
      ),
    ],
    failover: [failoverConfigOf(h11.name, labPoolConf())],
    maxLagBytes: 16 * 1024 * 1024,
  };
}

/** After the drill: srv13 promoted (standby.signal gone), srv11 and srv12 stopped, both can follow it as they are. */
export function labAfterDrillFacts(): FailoverFacts {
  const notNeeded = {
    need: 'not-needed' as const,
    said: 'pg_rewind: servers diverged at WAL location 0/9000148 on timeline 1 / pg_rewind: no rewind required',
  };
  return {
    takenAt: LAB_AFTER_DRILL_TAKEN_AT,
    nodes: [
      { ...labNode(h11, { running: false, inRecovery: null, standbySignal: false }), rewind: notNeeded },
      { ...labNode(h12, { running: false, inRecovery: null, standbySignal: true }), rewind: notNeeded },
      labNode(h13, { running: true, inRecovery: false, standbySignal: false }),
    ],
    replication: [],
    slots: [],
    managers: [
      labManager([
        poolRow(0, h11.address, lab.sqlPort, 'down', 'standby', 0.333333),
        poolRow(1, h12.address, lab.sqlPort, 'down', 'standby', 0.333333),
        poolRow(2, h13.address, lab.sqlPort, 'up', 'primary', 0.333333),
      ]),
    ],
    failover: [failoverConfigOf(h11.name, labPoolConf())],
    maxLagBytes: 16 * 1024 * 1024,
  };
}

/** The lab inventory's cluster `lab` (srv11, srv12; pgpool under node srv11 on 127.0.0.10). */
export async function labCluster(): Promise<ClusterConfig> {
  const r = await parseInventory(labInventory(lab), 'lab inventory', { env: {}, checkFiles: false });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.inventory.clusters.lab!;
}

// ---------------------------------------------------------------------------------------------

/** `/kingbase failover-test <cluster> …` through the real parameter parser. */
export function failoverParams(cluster: ClusterConfig, input: Record<string, unknown> = {}): FailoverParams {
  const r = resolveInput(
    failoverTestRunbook,
    { cluster: cluster.name, ...input },
    { clusters: { [cluster.name]: cluster }, reports: [] },
  );
  if (!r.ok) throw new Error(`bad params: ${r.failure.message}`);
  return r.params as FailoverParams;
}

/** A copy of the facts with one node changed. */
export const withNode = (f: FailoverFacts, name: string, n: Partial<FailoverNode>): FailoverFacts => ({
  ...f,
  nodes: f.nodes.map((x) => (x.name === name ? { ...x, ...n } : x)),
});
