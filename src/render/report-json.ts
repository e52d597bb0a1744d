import { LEVEL_EXIT, type HealthLevel } from '../core/health-levels';
import type { ClusterReport, Finding, HealthReport, LastRun } from '../health/report-model';
import type { PoolHealth } from '../probes/cluster-health';
import type { NodeReading, ReportReading } from '../probes/report-reading';

// `kbops report --json`: the health report as one JSON document for monitoring systems and scripts.
// A contract, so its shape is written out field by field (key order is the order below) and versioned
// by `kbops_report`; add fields freely, bump the version when one changes meaning or goes away.
// Numbers are numbers; what is unknown or does not apply is null, never 0, beside the problem text
// saying why. Only what was read and concluded: no conninfo, no password, no inventory secrets.

/** The document's schema version. */
export const REPORT_JSON_VERSION = 1;

export interface FindingJson {
  readonly level: Finding['level'];
  readonly code: Finding['code'];
  readonly subject: string;
  readonly text: string;
}

export interface NodeJson {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** false: a backend only a pool lists (e.g. a node added since the inventory was written). */
  readonly inInventory: boolean;
  readonly reachable: boolean;
  /** null: the node could not tell (see problem). */
  readonly role: 'primary' | 'standby' | null;
  readonly timeline: number | null;
  /** A standby's walsender state on the primary (`streaming`…); null: none, or not a standby. */
  readonly replicationState: string | null;
  /** A standby's replay lag behind the primary's current position; null on a primary or unknown. */
  readonly lagBytes: number | null;
  /** WAL the primary has not yet sent it; null on a primary or unknown. */
  readonly sentLagBytes: number | null;
  readonly replayDelaySeconds: number | null;
  readonly diskFreeBytes: number | null;
  readonly diskTotalBytes: number | null;
  readonly problem: string | null;
  readonly diskProblem: string | null;
}

export interface SlotJson {
  readonly name: string;
  readonly type: string | null;
  readonly active: boolean;
  readonly restartLsn: string | null;
  readonly retainedBytes: number | null;
}

export interface BackendJson {
  readonly nodeId: number;
  /** The node at this host and port; null: none the reading knows. */
  readonly node: string | null;
  readonly host: string;
  readonly port: number;
  /** up | down | waiting | unused | quarantine, as the pool says. */
  readonly status: string;
  /** The pool's role for it; null while the pool no longer updates it (a `down` backend). */
  readonly role: string | null;
}

export interface PoolJson {
  /** The data node whose host runs this cluster manager. */
  readonly node: string;
  readonly host: string;
  readonly port: number;
  readonly answered: boolean;
  readonly problem: string | null;
  /** null: the pool did not answer. */
  readonly backends: readonly BackendJson[] | null;
}

export interface ArchiverJson {
  readonly archiveMode: string;
  readonly archivedCount: number;
  readonly failedCount: number;
  readonly lastArchivedWal: string | null;
  readonly lastArchivedAt: string | null;
  readonly lastFailedWal: string | null;
  readonly lastFailedAt: string | null;
}

export interface LastRunJson {
  readonly runbook: string;
  readonly runId: string;
  readonly state: string;
  readonly endedAt: string;
  readonly measures: readonly string[];
}

export interface ClusterJson {
  readonly name: string;
  readonly dialect: string;
  readonly level: HealthLevel;
  readonly readAt: string;
  /** The one node that says it is the primary; null when none or several do. */
  readonly primary: string | null;
  readonly worst: FindingJson | null;
  readonly findings: readonly FindingJson[];
  readonly nodes: readonly NodeJson[];
  readonly replicationProblem: string | null;
  /** null: not read (see slotsProblem). */
  readonly slots: readonly SlotJson[] | null;
  readonly slotsProblem: string | null;
  readonly pools: readonly PoolJson[];
  /** null: not read (see archiverProblem). */
  readonly archiver: ArchiverJson | null;
  readonly archiverProblem: string | null;
  readonly lastRuns: readonly LastRunJson[];
}

export interface ReportJson {
  readonly kbops_report: typeof REPORT_JSON_VERSION;
  readonly generatedAt: string;
  /** The worst cluster level; null when kbops could not report at all (see error). */
  readonly level: HealthLevel | null;
  /** What `kbops report` exits with: 0 green, 1 amber, 2 red (Nagios), 3 could not report. */
  readonly exitCode: number;
  readonly error?: string;
  readonly clusters: readonly ClusterJson[];
}

const findingJson = (f: Finding): FindingJson => ({
  level: f.level,
  code: f.code,
  subject: f.subject,
  text: f.text,
});

function nodeJson(r: ReportReading, n: NodeReading): NodeJson {
  const standby = n.reachable && n.role === 'standby';
  const e = standby ? (r.replication ?? []).find((x) => x.applicationName === n.name) : undefined;
  return {
    name: n.name,
    host: n.host,
    port: n.sqlPort,
    inInventory: n.inInventory,
    reachable: n.reachable,
    role: n.role === 'unknown' ? null : n.role,
    timeline: n.timeline,
    replicationState: e?.state ? e.state : null,
    lagBytes: e?.lagBytes ?? null,
    sentLagBytes: e?.sentLagBytes ?? null,
    // As the lag chart takes it: the standby's own clock first, the primary's replay_lag otherwise.
    replayDelaySeconds: standby ? (n.replayDelaySeconds ?? e?.lagSeconds ?? null) : null,
    diskFreeBytes: n.disk?.freeBytes ?? null,
    diskTotalBytes: n.disk?.totalBytes ?? null,
    problem: n.problem,
    diskProblem: n.diskProblem,
  };
}

function poolJson(r: ReportReading, p: PoolHealth): PoolJson {
  return {
    node: p.node,
    host: p.host,
    port: p.sqlPort,
    answered: p.poolNodes !== null,
    problem: p.problem,
    backends:
      p.poolNodes?.map((b) => ({
        nodeId: b.nodeId,
        node: r.nodes.find((n) => n.host === b.hostname && n.sqlPort === b.port)?.name ?? null,
        host: b.hostname,
        port: b.port,
        status: b.status,
        role: b.roleStale ? null : b.role,
      })) ?? null,
  };
}

const lastRunJson = (r: LastRun): LastRunJson => ({
  runbook: r.runbook,
  runId: r.runId,
  state: r.state,
  endedAt: r.endedAt,
  measures: [...r.measures],
});

function clusterJson(c: ClusterReport): ClusterJson {
  const r = c.reading;
  const a = r.archiver;
  return {
    name: c.cluster,
    dialect: r.dialect,
    level: c.level,
    readAt: r.readAt,
    primary: r.primary,
    worst: c.worst && findingJson(c.worst),
    findings: c.findings.map(findingJson),
    nodes: r.nodes.map((n) => nodeJson(r, n)),
    replicationProblem: r.replicationProblem,
    slots:
      r.slots?.map((s) => ({
        name: s.name,
        type: s.type,
        active: s.active,
        restartLsn: s.restartLsn,
        retainedBytes: s.retainedBytes,
      })) ?? null,
    slotsProblem: r.slotsProblem,
    pools: r.pools.map((p) => poolJson(r, p)),
    archiver: a && {
      archiveMode: a.archiveMode,
      archivedCount: a.archivedCount,
      failedCount: a.failedCount,
      lastArchivedWal: a.lastArchivedWal,
      lastArchivedAt: a.lastArchivedAt,
      lastFailedWal: a.lastFailedWal,
      lastFailedAt: a.lastFailedAt,
    },
    archiverProblem: r.archiverProblem,
    lastRuns: c.lastRuns.map(lastRunJson),
  };
}

/** The report as `kbops report --json` prints it. */
export function reportJson(report: HealthReport): ReportJson {
  return {
    kbops_report: REPORT_JSON_VERSION,
    generatedAt: report.generatedAt,
    level: report.level,
    exitCode: LEVEL_EXIT[report.level],
    clusters: report.clusters.map(clusterJson),
  };
}

/** What `kbops report --json` prints when it could not report at all (Nagios UNKNOWN). */
export function unknownReportJson(o: { generatedAt: string; error: string; exitCode: number }): ReportJson {
  return {
    kbops_report: REPORT_JSON_VERSION,
    generatedAt: o.generatedAt,
    level: null,
    exitCode: o.exitCode,
    error: o.error,
    clusters: [],
  };
}
