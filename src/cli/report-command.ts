import { setTimeout as delay } from 'node:timers/promises';
import { clusterConnectorFor } from '../app/compose-runs';
import { openStore, type StoreOptions } from '../app/open-store';
import { ReportService } from '../app/report-service';
import { UNSHOWABLE } from '../chatops/chatops';
import type { ClusterConfig, Inventory } from '../config/normalise-inventory';
import type { Env } from '../config/resolve-secret';
import { LEVEL_EXIT, type HealthLevel } from '../core/health-levels';
import { bytesText } from '../health/health-units';
import type { ClusterReport, HealthReport } from '../health/report-model';
import { scrubText, scrubValue } from '../log/create-logger';
import type { Clock } from '../ports/clock';
import type { Connector } from '../ports/connector';
import type { StateStore } from '../ports/report-store';
import { reportJson, unknownReportJson } from '../render/report-json';
import type { AnyRunbook } from '../runbooks/runbook';
import { EXIT, REPORT_UNKNOWN, type CommandIo } from './cli-io';

// `kbops report [--cluster C]… [--json]`: every cluster (or those named) read now and judged as the
// scheduled report judges them, its standbys' lag kept in the state store for the charts. The exit
// code is the report's level (0 green, 1 amber, 2 red) so it serves as a Nagios-style check; 3 (Nagios
// UNKNOWN) when it could not report at all, so a broken setup never reads as a red cluster.

export const REPORT_USAGE = 'usage: kbops report [--cluster <name>]… [--json]';

export interface ReportArgs {
  /** The clusters named with --cluster, each once, in the order given; empty: every cluster. */
  readonly clusters: readonly string[];
  readonly json: boolean;
}

/** The arguments alone (no inventory needed): a usage error is the caller's, whatever the configuration. */
export function parseReportArgs(
  argv: readonly string[],
): { ok: true; args: ReportArgs } | { ok: false; message: string } {
  const clusters: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') json = true;
    else if (a === '--cluster' || a.startsWith('--cluster=')) {
      const value = a === '--cluster' ? argv[++i] : a.slice('--cluster='.length);
      if (value === undefined || value === '' || value.startsWith('--'))
        return { ok: false, message: '--cluster needs a cluster name' };
      if (!clusters.includes(value)) clusters.push(value);
    } else return { ok: false, message: `unknown argument ${JSON.stringify(a.slice(0, 40))}` };
  }
  return { ok: true, args: { clusters, json } };
}

/** What tests replace: how clusters are reached and what time it is. */
export interface ReportSeams {
  /** Default: SSH and SQL as the inventory says. */
  readonly connectorFor?: (cluster: ClusterConfig) => Connector;
  readonly clock?: Clock;
}

export interface ReportCommandContext {
  readonly inventory: Inventory;
  readonly env: Env;
  readonly io: CommandIo;
  readonly store: StoreOptions;
  readonly runbooks: readonly AnyRunbook[];
  readonly seams?: ReportSeams;
}

const wallClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) => delay(ms, undefined, signal && { signal }),
};

const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Remote and inventory text for a terminal: no secret, no control character. */
const shown = (text: string): string => scrubText(text).replace(UNSHOWABLE, '\uFFFD');

/**
 * Says kbops could not report at all and returns the UNKNOWN exit code: `UNKNOWN: …` on stdout
 * (a monitoring system shows the first line), or with --json a document with level null.
 */
export function cannotReport(io: CommandIo, json: boolean, why: string, now = new Date()): number {
  if (json) {
    const doc = unknownReportJson({
      generatedAt: now.toISOString(),
      error: why,
      exitCode: REPORT_UNKNOWN,
    });
    io.out(JSON.stringify(scrubValue(doc), null, 2));
  } else io.out(`UNKNOWN: kbops could not report: ${shown(why)}`);
  return REPORT_UNKNOWN;
}

const LEVELS: readonly HealthLevel[] = ['red', 'amber', 'green'];

/** A green cluster's line says what green rests on, as the Slack report does. */
function greenSummary(c: ClusterReport): string {
  const lags = (c.reading.replication ?? []).flatMap((e) => (e.lagBytes === null ? [] : [e.lagBytes]));
  const nodes = `${c.reading.nodes.length} node${c.reading.nodes.length === 1 ? '' : 's'}`;
  return lags.length === 0
    ? `${nodes}, no standby`
    : `${nodes}, ${lags.length} streaming, largest lag ${bytesText(Math.max(...lags))}`;
}

/** The plain-text report: a status line, one line per cluster, then every finding of those not green. */
export function reportText(r: HealthReport): string[] {
  const n = (l: HealthLevel): number => r.clusters.filter((c) => c.level === l).length;
  const counts = LEVELS.filter((l) => n(l) > 0)
    .map((l) => `${n(l)} ${l}`)
    .join(', ');
  const width = Math.max(...r.clusters.map((c) => shown(c.cluster).length));
  const clusters = `${r.clusters.length} cluster${r.clusters.length === 1 ? '' : 's'}`;
  const lines = [`${r.level.toUpperCase()}: ${clusters}: ${counts} · ${r.generatedAt}`];
  for (const c of r.clusters) {
    const more = c.findings.length > 1 ? ` (+${c.findings.length - 1} more)` : '';
    const what = c.worst ? `${shown(c.worst.text)}${more}` : greenSummary(c);
    lines.push(`${c.level.padEnd(5)}  ${shown(c.cluster).padEnd(width)}  ${what}`);
  }
  for (const c of r.clusters.filter((x) => x.findings.length > 0)) {
    lines.push('', `${shown(c.cluster)} is ${c.level}:`);
    for (const f of c.findings) lines.push(`  ${f.level.padEnd(5)}  ${shown(f.text)}`);
  }
  return lines;
}

async function closeQuietly(store: StateStore, io: CommandIo): Promise<void> {
  await store
    .close()
    .catch((err: unknown) => io.err(`kbops: closing the state store: ${shown(errorText(err))}`));
}

export async function reportCommand(args: ReportArgs, ctx: ReportCommandContext): Promise<number> {
  const { io, inventory } = ctx;
  const clock = ctx.seams?.clock ?? wallClock;
  const missing = args.clusters.filter((name) => !Object.hasOwn(inventory.clusters, name));
  if (missing.length > 0) {
    io.err(
      `kbops: the inventory has no cluster ${missing.map((m) => JSON.stringify(m.slice(0, 40))).join(', ')} ` +
        `(its clusters: ${Object.keys(inventory.clusters).join(', ') || 'none'})\n${REPORT_USAGE}`,
    );
    return EXIT.usage;
  }
  const clusters: ClusterConfig[] =
    args.clusters.length > 0
      ? args.clusters.map((name) => inventory.clusters[name]!)
      : Object.values(inventory.clusters);
  // An empty report would be green: nothing read is not a pass.
  if (clusters.length === 0) return cannotReport(io, args.json, 'the inventory has no cluster', clock.now());
  let store: StateStore;
  try {
    store = await openStore(ctx.store, ctx.env);
  } catch (err) {
    return cannotReport(io, args.json, `the state store cannot be opened: ${errorText(err)}`, clock.now());
  }
  try {
    const service = new ReportService({
      inventory,
      runStore: store,
      reports: store.reports,
      connectorFor: ctx.seams?.connectorFor ?? clusterConnectorFor(ctx.env),
      clock,
      runbookIds: ctx.runbooks.map((r) => r.id),
    });
    let report: HealthReport;
    try {
      report = await service.report({ clusters });
    } catch (err) {
      return cannotReport(io, args.json, `the report failed: ${errorText(err)}`, clock.now());
    }
    if (args.json) io.out(JSON.stringify(scrubValue(reportJson(report)), null, 2));
    else for (const line of reportText(report)) io.out(line);
    return LEVEL_EXIT[report.level];
  } finally {
    await closeQuietly(store, io);
  }
}
