import type { HealthLevel } from '../../../src/core/health-levels';
import type { ClusterReport, HealthReport } from '../../../src/health/report-model';
import type { PoolHealth } from '../../../src/probes/cluster-health';
import type { PoolNode } from '../../../src/probes/pool-nodes';
import type { NodeReading, ReplicationReading, ReportReading } from '../../../src/probes/report-reading';
import type { ReplicationSlot } from '../../../src/probes/slots';

// Hand-built health reports: a primary srv11 and a standby srv12 streaming, one slot, one pool on
// srv11 that agrees with them; each builder takes what a test changes.

export const node = (
  name: string,
  role: NodeReading['role'],
  over: Partial<NodeReading> = {},
): NodeReading => ({
  name,
  host: `10.0.0.${name.replace(/\D/g, '')}`,
  sqlPort: 54321,
  reachable: true,
  role,
  walPosition: '0/3000000',
  problem: null,
  inInventory: true,
  timeline: 1,
  replayDelaySeconds: role === 'standby' ? 0 : null,
  disk: null,
  diskProblem: 'not read in this test',
  readMs: 3,
  ...over,
});

export const streaming = (name: string, over: Partial<ReplicationReading> = {}): ReplicationReading => ({
  applicationName: name,
  clientAddr: '10.0.0.1',
  state: 'streaming',
  syncState: 'async',
  sent: '0/3000000',
  replay: '0/3000000',
  lagBytes: 0,
  lagSeconds: null,
  sentLagBytes: 0,
  ...over,
});

export const slot = (name: string, active: boolean, retainedBytes: number | null): ReplicationSlot => ({
  name,
  type: 'physical',
  active,
  restartLsn: retainedBytes === null ? null : '0/1000000',
  retainedBytes,
});

export const backend = (id: number, n: NodeReading, status: string, role: string): PoolNode => ({
  nodeId: id,
  hostname: n.host,
  port: n.sqlPort,
  status,
  lbWeight: 0.5,
  role,
  roleStale: status === 'down',
});

export const pool = (on: string, poolNodes: PoolNode[] | null): PoolHealth => ({
  node: on,
  host: '10.0.0.100',
  sqlPort: 9999,
  poolNodes,
  problem: poolNodes === null ? 'connection refused' : null,
});

export const reading = (cluster: string, over: Partial<ReportReading> = {}): ReportReading => {
  const nodes = over.nodes ?? [node('srv11', 'primary'), node('srv12', 'standby')];
  return {
    cluster,
    dialect: 'kingbase-v8r3',
    readAt: '2026-03-01T07:00:00.000Z',
    primary: 'srv11',
    replication: [streaming('srv12')],
    replicationProblem: null,
    slots: [slot('slot_srv12', true, 0)],
    slotsProblem: null,
    pools: [pool('srv11', [backend(0, nodes[0]!, 'up', 'primary'), backend(1, nodes[1]!, 'up', 'standby')])],
    archiver: null,
    archiverProblem: 'not read in this test',
    nodeTimeoutMs: 5000,
    readMs: 40,
    ...over,
    nodes,
  };
};

export const clusterReport = (r: ReportReading, level: HealthLevel = 'green'): ClusterReport => ({
  cluster: r.cluster,
  level,
  worst: null,
  findings: [],
  reading: r,
  lastRuns: [],
  greenAgain: false,
});

export const report = (...clusters: ClusterReport[]): HealthReport => ({
  schedule: null,
  slotAt: null,
  timezone: 'UTC',
  generatedAt: '2026-03-01T07:00:05.000Z',
  lateByMinutes: null,
  skipped: [],
  level: 'green',
  clusters,
});
