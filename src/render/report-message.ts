import type { HealthLevel } from '../core/health-levels';
import { bytesText, percentText, secondsText } from '../health/health-units';
import type { ClusterReport, HealthReport } from '../health/report-model';
import type { NodeReading } from '../probes/report-reading';
import { chunkLines, fitMessage, SLACK_LIMITS } from './limits';
import { context, section, type KnownBlock, type SlackMessage } from './slack-message';
import { esc, freeText, plural } from './slack-text';

// A replication health report: one root message, one line per cluster (its level and its worst
// finding), so a morning with nothing to do reads in a second; then one thread reply per cluster
// that is not green, with every finding and the node table. Red mentions the configured group.

export const LEVEL_MARK: Readonly<Record<HealthLevel, string>> = {
  green: ':large_green_circle:',
  amber: ':large_yellow_circle:',
  red: ':red_circle:',
};

/** "2026-12-02 08:00 Asia/Shanghai": the schedule's own clock, as its readers set it. */
export function zonedTime(iso: string, timezone: string): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${timezone}`;
}

const counts = (r: HealthReport): string => {
  const n = (l: HealthLevel): number => r.clusters.filter((c) => c.level === l).length;
  return (['red', 'amber', 'green'] as const)
    .filter((l) => n(l) > 0)
    .map((l) => `${n(l)} ${l}`)
    .join(', ');
};

/** A green cluster's line says what green rests on: nodes answering, the largest lag. */
function greenSummary(c: ClusterReport): string {
  const lags = (c.reading.replication ?? []).flatMap((e) => (e.lagBytes === null ? [] : [e.lagBytes]));
  const standbys = plural(lags.length, 'standby', 'standbys');
  return lags.length === 0
    ? `${plural(c.reading.nodes.length, 'node')}, no standby`
    : `${plural(c.reading.nodes.length, 'node')}, ${standbys} streaming, largest lag ${bytesText(Math.max(...lags))}`;
}

/** Runs whose verdict measured something (a drill's failover time) are worth a word on every line. */
const measuredRuns = (c: ClusterReport, timezone: string): string =>
  c.lastRuns
    .filter((r) => r.measures.length > 0)
    .map(
      (r) =>
        ` · last ${esc(r.runbook)} ${esc(zonedTime(r.endedAt, timezone).slice(0, 10))}: ${esc(r.state)}, ${r.measures.map(freeText).join(', ')}`,
    )
    .join('');

function clusterLine(c: ClusterReport, timezone: string): string {
  const name = `*${esc(c.cluster)}*`;
  const runs = measuredRuns(c, timezone);
  if (c.worst === null)
    return `${LEVEL_MARK.green} ${name} ${esc(greenSummary(c))}${c.greenAgain ? ' (green again)' : ''}${runs}`;
  const more = c.findings.length > 1 ? ` _(+${c.findings.length - 1} more in the thread)_` : '';
  return `${LEVEL_MARK[c.level]} ${name} ${freeText(c.worst.text)}${more}${runs}`;
}

function notes(r: HealthReport): string[] {
  const out: string[] = [];
  if (r.lateByMinutes !== null && r.slotAt !== null)
    out.push(
      `:hourglass: late by ${r.lateByMinutes} min: due at ${esc(zonedTime(r.slotAt, r.timezone))}, when no kbops was running`,
    );
  if (r.skipped.length > 0)
    out.push(
      `:fast_forward: skipped ${plural(r.skipped.length, 'earlier report')} nobody posted (${r.skipped
        .slice(0, 5)
        .map((s) => esc(zonedTime(s, r.timezone).slice(11, 16)))
        .join(', ')}${r.skipped.length > 5 ? ', …' : ''}): this one replaces them`,
    );
  return out;
}

export function reportRootMessage(r: HealthReport): SlackMessage {
  const when = zonedTime(r.slotAt ?? r.generatedAt, r.timezone);
  const title = r.schedule === null ? 'Replication health' : `Replication health (${r.schedule})`;
  const mention = r.level === 'red' && r.mention !== undefined ? `<!subteam^${r.mention}> ` : '';
  const head = `${mention}${LEVEL_MARK[r.level]} *${esc(title)}* · ${esc(when)} · ${esc(counts(r) || 'no cluster')}`;
  const lines = r.clusters.map((c) => clusterLine(c, r.timezone));
  const blocks: KnownBlock[] = [
    section(head),
    ...notes(r).map((n) => context(n)),
    ...chunkLines(lines, SLACK_LIMITS.sectionText).map(section),
  ];
  const worst = r.clusters.find((c) => c.level === r.level && c.worst !== null);
  const summary =
    `${title}: ${counts(r) || 'no cluster'}` +
    (worst?.worst ? ` · ${worst.cluster}: ${worst.worst.text}` : '');
  return fitMessage(
    { text: `${mention}${freeText(summary)}`, blocks },
    { more: (n) => `… ${n} more clusters` },
  );
}

const cell = (v: number | null, show: (n: number) => string): string => (v === null ? '?' : show(v));

function nodeRow(c: ClusterReport, n: NodeReading): string[] {
  const e = (c.reading.replication ?? []).find((x) => x.applicationName === n.name);
  const free =
    n.disk && n.disk.totalBytes > 0 ? percentText((100 * n.disk.freeBytes) / n.disk.totalBytes) : '?';
  return [
    n.name,
    n.reachable ? n.role : 'no answer',
    cell(n.timeline, String),
    // Lag means nothing on the primary; on a node that did not answer it is unknown, not absent.
    n.role === 'primary' ? '-' : cell(e?.lagBytes ?? null, bytesText),
    n.role === 'primary' ? '-' : cell(n.replayDelaySeconds ?? e?.lagSeconds ?? null, secondsText),
    n.disk ? `${bytesText(n.disk.freeBytes)} (${free})` : '?',
  ];
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    esc(
      r
        .map((v, i) => v.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    ),
  );
}

function lastRunLines(c: ClusterReport, timezone: string): string[] {
  return c.lastRuns.map(
    (r) =>
      `last ${esc(r.runbook)}: ${esc(r.state)} ${esc(zonedTime(r.endedAt, timezone))} (\`${esc(r.runId)}\`)` +
      (r.measures.length > 0 ? `, ${r.measures.map(freeText).join(', ')}` : ''),
  );
}

/** A cluster's thread reply: every finding, the nodes, the last runs. */
export function reportClusterMessage(c: ClusterReport, timezone: string): SlackMessage {
  const head = `${LEVEL_MARK[c.level]} *${esc(c.cluster)}* is ${c.level}${c.greenAgain ? ' again' : ''}`;
  const findings = c.findings.map((f) => `${LEVEL_MARK[f.level]} ${freeText(f.text)}`);
  const rows = [
    ['node', 'role', 'timeline', 'lag', 'replay delay', 'disk free'],
    ...c.reading.nodes.map((n) => nodeRow(c, n)),
  ];
  const runs = lastRunLines(c, timezone);
  const blocks: KnownBlock[] = [
    section(head),
    ...chunkLines(findings, SLACK_LIMITS.sectionText).map(section),
    ...chunkLines(table(rows), SLACK_LIMITS.sectionText, true).map(section),
    ...(runs.length > 0 ? [context(...chunkLines(runs, SLACK_LIMITS.contextText).slice(0, 1))] : []),
    context(esc(`read ${zonedTime(c.reading.readAt, timezone)} in ${secondsText(c.reading.readMs / 1000)}`)),
  ];
  const text = `${c.cluster} is ${c.level}: ${c.worst?.text ?? 'all well'}`;
  return fitMessage(
    { text: freeText(text), blocks },
    { more: (n) => `… ${n} more, see kbops report --cluster ${c.cluster}` },
  );
}

/** The lag chart's file name and title in the thread. */
export const lagChartTitle = (cluster: string): string => `${cluster}-lag-24h.png`;

/** A slot too late to be worth posting: said once, with why and when the next one comes. */
export function reportSkippedMessage(o: {
  schedule: string;
  slotAt: string;
  minutesLate: number;
  lateLimitMinutes: number;
  timezone: string;
}): SlackMessage {
  const text =
    `:fast_forward: The ${o.schedule} replication health report due at ${zonedTime(o.slotAt, o.timezone)} ` +
    `was skipped: no kbops was running then, and it is now ${o.minutesLate} min late ` +
    `(the schedule posts late reports up to ${o.lateLimitMinutes} min). The next one comes on schedule; ` +
    '`/kingbase report` reads the clusters now.';
  return fitMessage({
    text: esc(text.replace(/`/g, '')),
    blocks: [section(esc(text))],
  });
}
