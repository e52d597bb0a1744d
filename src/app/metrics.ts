import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { LEVEL_RANK } from '../core/health-levels';
import type { Run, StoredEvent } from '../core/run';
import type { RunState } from '../core/run-state';
import type { ClusterReport, HealthReport } from '../health/report-model';
import type { PoolNode } from '../probes/pool-nodes';
import type { NodeReading, ReportReading } from '../probes/report-reading';

// GET /metrics: the last health readings and the bot's own counters, in Prometheus's text format,
// so Grafana reads what the reports read without a second agent. Each bot has a registry of its own
// (never prom-client's global one): two bots in one process do not clash. Labels carry only
// cluster, node, slot and runbook names; an unknown value is no series at all, never a 0.

/** States a run's execution ends in (interrupted is not: it waits for a resume or a rollback). */
const FINISHED: ReadonlySet<RunState> = new Set<RunState>([
  'succeeded',
  'failed',
  'cancelled',
  'rolled_back',
  'rollback_failed',
  'rejected',
  'expired',
]);

type Labels = Record<string, string>;

/** One backend as the pool shows it, judged against what the databases say of themselves. */
export interface PoolAgreement {
  /** The data node whose host runs this cluster manager. */
  readonly pool: string;
  /** The inventory (or reading) name of the backend's node. */
  readonly backend: string;
  readonly agrees: boolean;
}

export interface KbopsMetricsOptions {
  /** prom-client's process metrics (heap, CPU, event loop…), prefixed kbops_ (default true). */
  readonly processMetrics?: boolean;
}

export class KbopsMetrics {
  readonly registry = new Registry();
  private readonly lagBytes: Gauge;
  private readonly lagSeconds: Gauge;
  private readonly sentLagBytes: Gauge;
  private readonly slotRetained: Gauge;
  private readonly poolAgrees: Gauge;
  private readonly nodeUp: Gauge;
  private readonly level: Gauge;
  private readonly readAt: Gauge;
  private readonly runsFinished: Counter;
  private readonly stepFailures: Counter;
  private readonly rateLimitedCalls: Counter;
  /** Every series set for a cluster, so the next reading of it starts from none (a dropped standby goes). */
  private readonly seriesOf = new Map<string, Array<{ gauge: Gauge; labels: Labels }>>();

  constructor(options: KbopsMetricsOptions = {}) {
    const registers = [this.registry];
    const gauge = (name: string, help: string, labelNames: string[]) =>
      new Gauge({ name, help, labelNames, registers });
    const counter = (name: string, help: string, labelNames: string[] = []) =>
      new Counter({ name, help, labelNames, registers });
    this.lagBytes = gauge(
      'kbops_replication_lag_bytes',
      "A standby's replay lag: the primary's current WAL position minus its replay position.",
      ['cluster', 'standby'],
    );
    this.lagSeconds = gauge(
      'kbops_replication_lag_seconds',
      "A standby's replay delay: seconds since its last replayed transaction (0 when caught up).",
      ['cluster', 'standby'],
    );
    this.sentLagBytes = gauge(
      'kbops_replication_sent_lag_bytes',
      "WAL the primary has not yet sent a standby: its current position minus the standby's sent one.",
      ['cluster', 'standby'],
    );
    this.slotRetained = gauge('kbops_slot_retained_bytes', 'WAL a replication slot holds back on its node.', [
      'cluster',
      'slot',
      'active',
    ]);
    this.poolAgrees = gauge(
      'kbops_pool_backend_agrees',
      "1 when the pool's status and role of a backend agree with what the database says, 0 when not.",
      ['cluster', 'pool', 'backend'],
    );
    this.nodeUp = gauge('kbops_node_up', 'Whether a node answered SQL at the last reading.', [
      'cluster',
      'node',
    ]);
    this.level = gauge('kbops_cluster_health_level', "A cluster's verdict: 0 green, 1 amber, 2 red.", [
      'cluster',
    ]);
    this.readAt = gauge(
      'kbops_cluster_reading_timestamp_seconds',
      "When the cluster's last reading started (Unix time).",
      ['cluster'],
    );
    this.runsFinished = counter(
      'kbops_runs_finished_total',
      'Runs this process saw end, by runbook and final state (a failed run later rolled back counts in both).',
      ['runbook', 'state'],
    );
    this.stepFailures = counter(
      'kbops_step_failures_total',
      'Steps (or their undo) that failed in runs this process executed.',
      ['runbook'],
    );
    this.rateLimitedCalls = counter(
      'kbops_slack_rate_limited_total',
      'Slack Web API calls answered 429 (rate limited); each was retried after Retry-After.',
    );
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'kbops_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Every cluster of a report: its series replace whatever that cluster had before. */
  recordReport(report: HealthReport): void {
    for (const c of report.clusters) this.recordCluster(c);
  }

  recordCluster(c: ClusterReport): void {
    const cluster = c.cluster;
    for (const s of this.seriesOf.get(cluster) ?? []) s.gauge.remove(s.labels);
    const series: Array<{ gauge: Gauge; labels: Labels }> = [];
    this.seriesOf.set(cluster, series);
    const set = (gauge: Gauge, labels: Labels, value: number | null) => {
      if (value === null || !Number.isFinite(value)) return;
      const all = { cluster, ...labels };
      gauge.set(all, value);
      series.push({ gauge, labels: all });
    };
    const r = c.reading;
    set(this.level, {}, LEVEL_RANK[c.level]);
    set(this.readAt, {}, Date.parse(r.readAt) / 1000);
    for (const n of r.nodes) {
      set(this.nodeUp, { node: n.name }, n.reachable ? 1 : 0);
      if (n.role === 'standby') set(this.lagSeconds, { standby: n.name }, n.replayDelaySeconds);
    }
    for (const e of r.replication ?? []) {
      const standby = e.applicationName || '-';
      set(this.lagBytes, { standby }, e.lagBytes);
      set(this.sentLagBytes, { standby }, e.sentLagBytes);
    }
    for (const s of r.slots ?? [])
      set(this.slotRetained, { slot: s.name, active: String(s.active) }, s.retainedBytes);
    for (const a of poolAgreements(r))
      set(this.poolAgrees, { pool: a.pool, backend: a.backend }, a.agrees ? 1 : 0);
  }

  /** One journaled event of a run (the notifier path): counts runs ending and steps failing. */
  observeEvent(e: StoredEvent, run: Run): void {
    const runbook = run.plan.runbook.id;
    const ev = e.event;
    if (ev.type === 'state' && FINISHED.has(ev.to)) this.runsFinished.inc({ runbook, state: ev.to });
    if (ev.type === 'step-finished' && !ev.outcome.ok) this.stepFailures.inc({ runbook });
  }

  /** A Slack call answered 429. */
  rateLimited(): void {
    this.rateLimitedCalls.inc();
  }
}

/**
 * Every pool backend whose agreement can be told: the pool says `down` (or anything but up/waiting)
 * while the node is the primary or streams, or its up-to-date role (primary or not) differs from the
 * node's own. A backend no inventory node matches, or whose node did not answer or could not tell
 * its role, is left out: unknown, not agreeing.
 */
export function poolAgreements(r: ReportReading): PoolAgreement[] {
  const out: PoolAgreement[] = [];
  for (const p of r.pools)
    for (const b of p.poolNodes ?? []) {
      const node = nodeOf(r.nodes, b);
      if (!node?.reachable || node.role === 'unknown') continue;
      const agrees = agreement(b, node, r);
      if (agrees !== null) out.push({ pool: p.node, backend: node.name, agrees });
    }
  return out;
}

function agreement(b: PoolNode, node: NodeReading, r: ReportReading): boolean | null {
  const isPrimary = node.role === 'primary';
  const poolUp = b.status === 'up' || b.status === 'waiting';
  if (!poolUp) {
    if (isPrimary) return false;
    if (r.replication === null) return null; // whether it streams is unknown
    return !r.replication.some((e) => e.applicationName === node.name && e.state === 'streaming');
  }
  // pgpool stops updating a down node's role; an up node's role must match the node's own.
  const poolPrimary = b.role === 'primary' || b.role === 'master';
  return poolPrimary === isPrimary;
}

/** The node a backend is: same host and port, else the one node on that host. */
function nodeOf(nodes: readonly NodeReading[], b: PoolNode): NodeReading | undefined {
  const exact = nodes.find((n) => n.host === b.hostname && n.sqlPort === b.port);
  if (exact) return exact;
  const onHost = nodes.filter((n) => n.host === b.hostname);
  return onHost.length === 1 ? onHost[0] : undefined;
}

/** The /metrics request handler: for Bolt's custom routes (HTTP mode) and the health server. */
export function metricsHandler(metrics: KbopsMetrics): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    metrics.text().then(
      (body) =>
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' }).end(body),
      () => res.writeHead(500).end(),
    );
  };
}
