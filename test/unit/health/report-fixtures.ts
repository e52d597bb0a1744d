import {
  DEFAULT_THRESHOLDS,
  worseOf,
  type HealthLevel,
  type HealthThresholds,
} from '../../../src/core/health-levels';
import { assessCluster } from '../../../src/health/assess-cluster';
import type { ClusterReport, HealthReport, LastRun } from '../../../src/health/report-model';
import type { PoolNode } from '../../../src/probes/pool-nodes';
import type { NodeReading, ReplicationReading, ReportReading } from '../../../src/probes/report-reading';

// Readings of a three-node lab-shaped cluster (srv1 primary, srv2 and srv3 standbys, a pgpool on
// srv1), healthy by default; each test changes what it is about. Numbers are what the lab shows.

export const READ_AT = '2026-12-02T00:00:03.000Z';
export const GiB = 1024 ** 3;
export const MiB = 1024 ** 2;

export const THRESHOLDS: HealthThresholds = DEFAULT_THRESHOLDS;

export function node(name: string, n: number, over: Partial<NodeReading> = {}): NodeReading {
  return {
    name,
    host: `127.0.0.${n}`,
    sqlPort: 5432,
    reachable: true,
    role: n === 11 ? 'primary' : 'standby',
    walPosition: '0/3000148',
    problem: null,
    inInventory: true,
    timeline: 1,
    replayDelaySeconds: n === 11 ? null : 0,
    disk: { path: `/srv/${name}/db/data`, totalBytes: 100 * GiB, freeBytes: 61 * GiB },
    diskProblem: null,
    readMs: 41,
    ...over,
  };
}

export function streaming(name: string, over: Partial<ReplicationReading> = {}): ReplicationReading {
  return {
    applicationName: name,
    clientAddr: '127.0.0.1',
    state: 'streaming',
    syncState: 'async',
    sent: '0/3000148',
    replay: '0/3000148',
    lagBytes: 0,
    lagSeconds: null,
    sentLagBytes: 0,
    ...over,
  };
}

export function poolNode(id: number, n: number, over: Partial<PoolNode> = {}): PoolNode {
  return {
    nodeId: id,
    hostname: `127.0.0.${n}`,
    port: 5432,
    status: 'up',
    lbWeight: 0.333333,
    role: n === 11 ? 'primary' : 'standby',
    roleStale: false,
    ...over,
  };
}

export function reading(over: Partial<ReportReading> = {}, cluster = 'lab'): ReportReading {
  return {
    cluster,
    dialect: 'postgresql',
    readAt: READ_AT,
    nodes: [node('srv1', 11), node('srv2', 12), node('srv3', 13)],
    primary: 'srv1',
    replication: [streaming('srv2'), streaming('srv3')],
    replicationProblem: null,
    slots: [
      { name: 'slot_srv2', type: 'physical', active: true, restartLsn: '0/3000148', retainedBytes: 0 },
      { name: 'slot_srv3', type: 'physical', active: true, restartLsn: '0/3000148', retainedBytes: 0 },
    ],
    slotsProblem: null,
    pools: [
      {
        node: 'srv1',
        host: '127.0.0.11',
        sqlPort: 9999,
        poolNodes: [poolNode(0, 11), poolNode(1, 12), poolNode(2, 13)],
        problem: null,
      },
    ],
    archiver: {
      archiveMode: 'on',
      archivedCount: 12,
      failedCount: 0,
      lastArchivedWal: '000000010000000000000002',
      lastArchivedAt: '2026-12-01T23:58:00.000Z',
      lastFailedWal: null,
      lastFailedAt: null,
    },
    archiverProblem: null,
    nodeTimeoutMs: 10_000,
    readMs: 57,
    ...over,
  };
}

/** Replaces the nodes named in `changes`, keeps the rest. */
export const withNodes = (r: ReportReading, changes: Record<string, Partial<NodeReading>>): NodeReading[] =>
  r.nodes.map((n) => (changes[n.name] ? { ...n, ...changes[n.name] } : n));

/** The last runs a report shows: an add-node, and a drill that measured its failover time. */
export const RUNS: LastRun[] = [
  {
    runbook: 'add-node',
    runId: 'r-7f3a',
    state: 'succeeded',
    endedAt: '2026-12-01T09:12:00.000Z',
    measures: [],
  },
  {
    runbook: 'failover-test',
    runId: 'r-9c1d',
    state: 'succeeded',
    endedAt: '2026-12-01T10:40:00.000Z',
    measures: ['failover time 4.2 s'],
  },
];

export const clusterReport = (r: ReportReading, previous?: HealthLevel): ClusterReport =>
  assessCluster({ reading: r, thresholds: THRESHOLDS, lastRuns: RUNS, ...(previous && { previous }) });

/** An on-demand report (no schedule, UTC) of these clusters; `over` makes it a scheduled one. */
export const healthReport = (clusters: ClusterReport[], over: Partial<HealthReport> = {}): HealthReport => ({
  schedule: null,
  slotAt: null,
  timezone: 'UTC',
  generatedAt: '2026-12-02T00:00:04.000Z',
  lateByMinutes: null,
  skipped: [],
  level: clusters.reduce<HealthLevel>((l, c) => worseOf(l, c.level), 'green'),
  clusters,
  ...over,
});

/** A pool that marks a streaming standby down, and a forgotten slot holding 33 MiB. */
export const amberReading = (): ReportReading =>
  reading(
    {
      pools: [
        {
          ...reading().pools[0]!,
          poolNodes: [poolNode(0, 11), poolNode(1, 12), poolNode(2, 13, { status: 'down', roleStale: true })],
        },
      ],
      slots: [
        { name: 'slot_srv2', type: 'physical', active: true, restartLsn: '0/3000148', retainedBytes: 0 },
        {
          name: 'slot_gone',
          type: 'physical',
          active: false,
          restartLsn: '0/1000000',
          retainedBytes: 33 * MiB,
        },
      ],
    },
    'orders',
  );

/** A dead standby, the other 300 MiB behind, and a pool that does not answer. */
export const redReading = (): ReportReading =>
  reading(
    {
      nodes: withNodes(reading(), {
        srv3: {
          reachable: false,
          role: 'unknown',
          walPosition: null,
          problem: 'did not answer within 10 s',
          timeline: null,
          replayDelaySeconds: null,
          disk: null,
          diskProblem: 'not read: the node does not answer',
          readMs: 10_000,
        },
      }),
      replication: [streaming('srv2', { lagBytes: 300 * MiB, sentLagBytes: 12 * MiB, lagSeconds: 41.5 })],
      pools: [{ ...reading().pools[0]!, poolNodes: null, problem: 'connect ECONNREFUSED 127.0.0.11:9999' }],
    },
    'billing',
  );
