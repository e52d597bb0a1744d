import { reportSettingsFor } from '../config/report-schedules';
import type { ClusterConfig, Inventory, ReportSchedule } from '../config/normalise-inventory';
import { worseOf, type HealthLevel, type HealthThresholds, type LagSample } from '../core/health-levels';
import { readReportReading } from '../cluster/read-report-reading';
import { dialectFor } from '../dialects/dialect-for';
import { assessCluster } from '../health/assess-cluster';
import type { ClusterReport, HealthReport } from '../health/report-model';
import type { ReportReading } from '../probes/report-reading';
import type { Clock } from '../ports/clock';
import type { Connector } from '../ports/connector';
import type { ReportStore } from '../ports/report-store';
import type { RunStore } from '../ports/run-store';
import { lastRunsOf } from './last-runs';
import { SharedConnections } from './shared-connections';
import type { SlotPlan } from './report-scheduler';

// One health report: every cluster read side by side (each node under the per-node timeout),
// judged, and its standbys' lag kept in the state store for the charts. Shared by the schedule, the
// `/kingbase report` command and `kbops report`.

export interface ReportServiceDeps {
  readonly inventory: Inventory;
  readonly runStore: RunStore;
  /** Lag history and last levels; absent: nothing is kept (and "green again" is never said). */
  readonly reports?: ReportStore;
  readonly connectorFor: (cluster: ClusterConfig) => Connector;
  readonly clock: Clock;
  /** The registry's runbook ids, for the last run of each. */
  readonly runbookIds: readonly string[];
  /** Told every report made (the /metrics gauges). */
  readonly onReport?: (report: HealthReport) => void;
  /** Clusters read at once (default 16): each node's timeout runs from its start, so a host kbops
   * itself keeps too busy with logins must not look like dead nodes. */
  readonly concurrency?: number;
}

export interface ReportRequest {
  readonly clusters: readonly ClusterConfig[];
  readonly schedule?: ReportSchedule;
  readonly plan?: SlotPlan;
  /** Time zone of an on-demand report (default UTC). */
  readonly timezone?: string;
}

/** How long lag samples are kept: the chart shows 24 h, a day more covers a late report. */
export const LAG_HISTORY_MS = 48 * 3600_000;
const CLOSE_GRACE_MS = 2_000;

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** A cluster kbops could not even try to read (a fault, not a silent host): every node unknown. */
function unreadable(cluster: ClusterConfig, now: Date, err: unknown): ReportReading {
  const problem = `kbops could not read this cluster: ${errorText(err)}`;
  return {
    cluster: cluster.name,
    dialect: cluster.dialect,
    readAt: now.toISOString(),
    nodes: cluster.nodes.map((n) => ({
      name: n.name,
      host: n.host,
      sqlPort: n.sqlPort,
      reachable: false,
      role: 'unknown',
      walPosition: null,
      problem,
      inInventory: true,
      timeline: null,
      replayDelaySeconds: null,
      disk: null,
      diskProblem: problem,
      readMs: 0,
    })),
    primary: null,
    replication: null,
    replicationProblem: problem,
    slots: null,
    slotsProblem: problem,
    pools: [],
    archiver: null,
    archiverProblem: problem,
    nodeTimeoutMs: 0,
    readMs: 0,
  };
}

/** Runs `fn` over `items`, at most `limit` at a time, results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export function lagSamplesOf(report: HealthReport): LagSample[] {
  return report.clusters.flatMap((c) =>
    (c.reading.replication ?? []).map((e) => ({
      cluster: c.cluster,
      standby: e.applicationName,
      at: c.reading.readAt,
      lagBytes: e.lagBytes,
      lagSeconds:
        c.reading.nodes.find((n) => n.name === e.applicationName)?.replayDelaySeconds ?? e.lagSeconds,
    })),
  );
}

export class ReportService {
  constructor(private readonly d: ReportServiceDeps) {}

  /**
   * One cluster, read and judged. Never throws: what cannot be read is a red finding. `connections`
   * shares logins across the clusters of one report; without it the cluster gets its own, closed here.
   */
  async clusterReport(
    cluster: ClusterConfig,
    settings: { thresholds: HealthThresholds; nodeTimeoutMs: number },
    previous?: HealthLevel,
    connections?: SharedConnections,
  ): Promise<ClusterReport> {
    const now = this.d.clock.now();
    let reading: ReportReading;
    try {
      const connector = connections ? connections.for(cluster) : this.d.connectorFor(cluster);
      try {
        reading = await readReportReading(cluster, {
          dialect: dialectFor(cluster.dialect),
          connector,
          now,
          nodeTimeoutMs: settings.nodeTimeoutMs,
        });
      } finally {
        // Closing also stops connects still hanging; a close that hangs itself must not hold the report.
        await Promise.race([
          connector.close().catch(() => undefined),
          new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref()),
        ]);
      }
    } catch (err) {
      reading = unreadable(cluster, now, err);
    }
    const lastRuns = await lastRunsOf(this.d.runStore, cluster.name, this.d.runbookIds).catch(() => []);
    return assessCluster({
      reading,
      thresholds: settings.thresholds,
      lastRuns,
      ...(previous !== undefined && { previous }),
    });
  }

  async report(req: ReportRequest): Promise<HealthReport> {
    const { schedule, plan } = req;
    const previous =
      schedule && this.d.reports
        ? await this.d.reports.lastLevels(schedule.name)
        : new Map<string, HealthLevel>();
    const settings = (c: ClusterConfig) =>
      schedule
        ? { thresholds: schedule.thresholds, nodeTimeoutMs: schedule.nodeTimeoutMs }
        : reportSettingsFor(this.d.inventory, c.name);
    const connections = new SharedConnections(this.d.connectorFor);
    let clusters: ClusterReport[];
    try {
      clusters = await mapLimit(req.clusters, this.d.concurrency ?? 16, (c) =>
        this.clusterReport(c, settings(c), previous.get(c.name), connections),
      );
    } finally {
      await connections.closeAll();
    }
    const report: HealthReport = {
      schedule: schedule?.name ?? null,
      slotAt: plan?.slotAt.toISOString() ?? null,
      timezone: schedule?.timezone ?? req.timezone ?? 'UTC',
      generatedAt: this.d.clock.now().toISOString(),
      lateByMinutes: plan?.lateByMinutes ?? null,
      skipped: (plan?.skipped ?? []).map((s) => s.toISOString()),
      level: clusters.reduce<HealthLevel>((l, c) => worseOf(l, c.level), 'green'),
      clusters,
      ...(schedule?.mention !== undefined && { mention: schedule.mention }),
    };
    if (this.d.reports) {
      await this.d.reports.recordLag(lagSamplesOf(report));
      await this.d.reports.pruneLag(new Date(this.d.clock.now().getTime() - LAG_HISTORY_MS));
    }
    this.d.onReport?.(report);
    return report;
  }

  /** Every cluster's level, kept for the next report of the schedule (green again is said once). */
  async keepLevels(schedule: ReportSchedule, report: HealthReport): Promise<void> {
    await this.d.reports?.setLevels(
      schedule.name,
      new Map(report.clusters.map((c) => [c.cluster, c.level])),
      this.d.clock.now(),
    );
  }

  /** A cluster's lag samples of the last 24 h, oldest first; empty without a store. */
  async lagHistory(cluster: string): Promise<LagSample[]> {
    if (!this.d.reports) return [];
    return this.d.reports.lagHistory(cluster, new Date(this.d.clock.now().getTime() - 24 * 3600_000));
  }
}
