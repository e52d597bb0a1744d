import type { ReportService } from '../src/app/report-service';
import type { ClusterConfig } from '../src/config/normalise-inventory';
import type { HealthReport } from '../src/health/report-model';

// One round of the kbops side: one ReportService.report over every cluster (the service makes a
// fresh connector per cluster, as the bot does), its wall time and the process's peak RSS while it
// ran, and whether the reading is complete: a round in which anything went unread would be fast
// for the wrong reason, so it is reported, never counted as a pass.

export interface KbopsRound {
  readonly ms: number;
  /** Highest RSS sampled (every 5 ms) during the report, bytes. */
  readonly peakRssBytes: number;
  /** Each node's own reading time (connect, SQL and SSH side by side), ms. */
  readonly nodeReadMs: readonly number[];
  readonly levels: Readonly<Record<string, number>>;
  readonly problems: readonly string[];
}

export interface Expected {
  /** Data nodes per cluster (primary included). */
  readonly nodes: number;
  /** The primary's name in every cluster. */
  readonly primary: string;
}

/** What the report left unread or unknown, one line each; empty when every reading is complete. */
export function incompleteness(report: HealthReport, clusters: number, e: Expected): string[] {
  const out: string[] = [];
  if (report.clusters.length !== clusters)
    out.push(`${report.clusters.length} clusters reported, not ${clusters}`);
  for (const c of report.clusters) {
    const r = c.reading;
    const at = (what: string) => out.push(`${c.cluster}: ${what}`);
    if (r.nodes.length !== e.nodes) at(`${r.nodes.length} nodes read, not ${e.nodes}`);
    for (const n of r.nodes) {
      if (!n.reachable || n.role === 'unknown') at(`${n.name} unreadable: ${n.problem ?? 'role unknown'}`);
      else if (n.problem) at(`${n.name}: ${n.problem}`);
      if (n.timeline === null) at(`${n.name}: timeline unknown`);
      if (n.role === 'standby' && n.replayDelaySeconds === null) at(`${n.name}: replay delay unknown`);
      if (!n.disk) at(`${n.name}: disk unknown: ${n.diskProblem ?? '?'}`);
    }
    if (r.primary !== e.primary) at(`primary is ${r.primary ?? 'unknown'}, not ${e.primary}`);
    if ((r.replication?.length ?? 0) !== e.nodes - 1)
      at(`${r.replication?.length ?? 0} standbys streaming: ${r.replicationProblem ?? ''}`);
    if (!r.slots) at(`slots unknown: ${r.slotsProblem ?? '?'}`);
    if (!r.archiver) at(`archiver unknown: ${r.archiverProblem ?? '?'}`);
    for (const p of r.pools)
      if ((p.poolNodes?.length ?? 0) !== e.nodes)
        at(`pool@${p.node}: ${p.poolNodes?.length ?? 0} backends: ${p.problem ?? ''}`);
    if (r.pools.length === 0) at('no pool read');
  }
  return out;
}

export async function kbopsRound(
  service: ReportService,
  clusters: readonly ClusterConfig[],
  expected: Expected,
): Promise<KbopsRound> {
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const started = performance.now();
  let report: HealthReport;
  try {
    report = await service.report({ clusters });
  } finally {
    clearInterval(sampler);
  }
  const ms = performance.now() - started;
  peak = Math.max(peak, process.memoryUsage.rss());
  const levels: Record<string, number> = {};
  for (const c of report.clusters) levels[c.level] = (levels[c.level] ?? 0) + 1;
  return {
    ms,
    peakRssBytes: peak,
    nodeReadMs: report.clusters.flatMap((c) => c.reading.nodes.map((n) => n.readMs)),
    levels,
    problems: incompleteness(report, clusters.length, expected),
  };
}
