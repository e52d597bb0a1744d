import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LEVEL_EXIT } from '../../../src/core/health-levels';
import type { ClusterReport, HealthReport } from '../../../src/health/report-model';
import { isSecretKey } from '../../../src/log/scrub-secrets';
import type { ReportReading } from '../../../src/probes/report-reading';
import { reportJson, unknownReportJson, type ReportJson } from '../../../src/render/report-json';
import {
  amberReading,
  clusterReport,
  healthReport,
  MiB,
  reading,
  redReading,
  RUNS,
  streaming,
  withNodes,
} from '../health/report-fixtures';

// `kbops report --json` is a contract for monitoring systems: its goldens (green, amber, red) are
// exactly what the command prints; UPDATE_GOLDEN=1 rewrites them (review the diff).

const cluster = clusterReport;
const report = (clusters: ClusterReport[]): HealthReport => healthReport(clusters);

const green = () => report([cluster(reading({}, 'orders')), cluster(reading({}, 'billing'))]);
const amber = () => report([cluster(amberReading()), cluster(reading({}, 'billing'))]);
const red = () => report([cluster(redReading()), cluster(amberReading()), cluster(reading({}, 'archive'))]);

/** Exactly what `kbops report --json` prints for the report (the CLI adds the final newline). */
const printed = (doc: ReportJson): string => `${JSON.stringify(doc, null, 2)}\n`;

function expectGolden(name: string, text: string): void {
  const file = join(__dirname, '..', '..', 'golden', `${name}.json`);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  expect(existsSync(file)).toBe(true);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

const clusterOf = (doc: ReportJson, name: string) => {
  const c = doc.clusters.find((x) => x.name === name);
  if (!c) throw new Error(`no cluster ${name}`);
  return c;
};

/** Every key anywhere in a JSON value. */
const keysOf = (v: unknown): string[] =>
  v === null || typeof v !== 'object'
    ? []
    : Array.isArray(v)
      ? v.flatMap(keysOf)
      : Object.entries(v).flatMap(([k, x]) => [k, ...keysOf(x)]);

describe('kbops report --json', () => {
  it.each([
    ['green', 0, green],
    ['amber', 1, amber],
    ['red', 2, red],
  ] as const)('is the %s golden, exit code %i in the document', (name, exitCode, make) => {
    const r = make();
    expect(r.level).toBe(name);
    const doc = reportJson(r);
    expect([doc.level, doc.exitCode]).toEqual([name, exitCode]);
    expect(doc.exitCode).toBe(LEVEL_EXIT[r.level]);
    expectGolden(`report-${name}`, printed(doc));
  });

  it('keeps its keys in one order, versioned, whatever order the reading had', () => {
    const r = red();
    const shuffled = report(
      r.clusters.map((c) => ({
        ...c,
        reading: Object.fromEntries(Object.entries(c.reading).reverse()) as unknown as ReportReading,
      })),
    );
    expect(printed(reportJson(shuffled))).toBe(printed(reportJson(r)));
    const doc = reportJson(r);
    expect(Object.keys(doc)).toEqual(['kbops_report', 'generatedAt', 'level', 'exitCode', 'clusters']);
    expect(doc.kbops_report).toBe(1);
    expect(Object.keys(doc.clusters[0]!)).toEqual([
      'name',
      'dialect',
      'level',
      'readAt',
      'primary',
      'worst',
      'findings',
      'nodes',
      'replicationProblem',
      'slots',
      'slotsProblem',
      'pools',
      'archiver',
      'archiverProblem',
      'lastRuns',
    ]);
  });

  it('says unknown as null, never 0, and numbers as numbers', () => {
    const billing = clusterOf(JSON.parse(printed(reportJson(red()))) as ReportJson, 'billing');
    const [srv1, srv2, srv3] = billing.nodes;
    // The dead standby: nothing known but that it does not answer, and why.
    expect(srv3).toMatchObject({
      name: 'srv3',
      reachable: false,
      role: null,
      timeline: null,
      replicationState: null,
      lagBytes: null,
      sentLagBytes: null,
      replayDelaySeconds: null,
      diskFreeBytes: null,
      diskTotalBytes: null,
      problem: 'did not answer within 10 s',
    });
    // A primary has no lag: not 0, null.
    expect(srv1).toMatchObject({
      role: 'primary',
      lagBytes: null,
      sentLagBytes: null,
      replayDelaySeconds: null,
    });
    expect(srv2).toMatchObject({
      role: 'standby',
      replicationState: 'streaming',
      lagBytes: 300 * MiB,
      sentLagBytes: 12 * MiB,
      replayDelaySeconds: 0,
      diskFreeBytes: 61 * 1024 ** 3,
      diskTotalBytes: 100 * 1024 ** 3,
    });
    expect(billing.pools).toEqual([
      {
        node: 'srv1',
        host: '127.0.0.11',
        port: 9999,
        answered: false,
        problem: 'connect ECONNREFUSED 127.0.0.11:9999',
        backends: null,
      },
    ]);
    expect(billing.worst).toEqual(billing.findings[0]);
    expect(billing.findings.map((f) => f.code)).toEqual(
      expect.arrayContaining(['node-unreachable', 'lag-bytes', 'pool-unreachable']),
    );
  });

  it('takes the primary’s replay_lag when the standby could not say its own delay', () => {
    const r = reading({
      nodes: withNodes(reading(), { srv2: { replayDelaySeconds: null } }),
      replication: [streaming('srv2', { lagSeconds: 41.5 }), streaming('srv3')],
    });
    const [, srv2, srv3] = reportJson(report([cluster(r)])).clusters[0]!.nodes;
    expect([srv2?.replayDelaySeconds, srv3?.replayDelaySeconds]).toEqual([41.5, 0]);
  });

  it('names each pool backend’s node and drops the role a down backend no longer updates', () => {
    const orders = clusterOf(reportJson(amber()), 'orders');
    expect(orders.pools[0]?.backends).toEqual([
      { nodeId: 0, node: 'srv1', host: '127.0.0.11', port: 5432, status: 'up', role: 'primary' },
      { nodeId: 1, node: 'srv2', host: '127.0.0.12', port: 5432, status: 'up', role: 'standby' },
      { nodeId: 2, node: 'srv3', host: '127.0.0.13', port: 5432, status: 'down', role: null },
    ]);
    expect(orders.slots?.find((s) => s.name === 'slot_gone')).toEqual({
      name: 'slot_gone',
      type: 'physical',
      active: false,
      restartLsn: '0/1000000',
      retainedBytes: 33 * MiB,
    });
    expect(orders.lastRuns).toEqual(RUNS);
  });

  it('copies only the fields it names: whatever else a reading carries (conninfo) never comes out', () => {
    const r = reading();
    const leaky = {
      ...r,
      conninfo: 'host=127.0.0.11 password=hunter2-leak',
      nodes: r.nodes.map((n) => ({ ...n, password: 'hunter2-leak' })),
      pools: r.pools.map((p) => ({ ...p, pcpPassword: 'hunter2-leak' })),
    } as ReportReading;
    const doc = reportJson(report([cluster(leaky)]));
    expect(JSON.stringify(doc)).not.toContain('hunter2');
    expect(keysOf(doc).filter(isSecretKey)).toEqual([]);
  });

  it('has a document for a report that could not be made: level null, exit code as given', () => {
    const doc = unknownReportJson({
      generatedAt: '2026-12-02T00:00:04.000Z',
      error: 'configuration has 2 problem(s)',
      exitCode: 3,
    });
    expect(doc).toEqual({
      kbops_report: 1,
      generatedAt: '2026-12-02T00:00:04.000Z',
      level: null,
      exitCode: 3,
      error: 'configuration has 2 problem(s)',
      clusters: [],
    });
  });
});
