import { LEVEL_RANK, type HealthLevel, type HealthThresholds } from '../core/health-levels';
import type { NodeReading, ReportReading } from '../probes/report-reading';
import { assessPools } from './assess-pools';
import { bytesText, percentText, secondsText } from './health-units';
import type { ClusterReport, Finding, LastRun } from './report-model';

// The judgement of one cluster's reading, pure: green when nothing is worth telling, else each
// finding with its level, worst first. The anchors are repmgr's `node check` (role, lag, slots,
// archiving, downstream standbys), check_postgres (hot_standby_delay, archive_ready) and pgpool's
// `show pool_nodes` compared with the databases' own word. Whatever could not be read is a finding
// too: an unknown is never green.

export interface AssessInput {
  readonly reading: ReportReading;
  readonly thresholds: HealthThresholds;
  readonly lastRuns: readonly LastRun[];
  /** The cluster's level at this schedule's previous report, if there was one. */
  readonly previous?: HealthLevel;
}

/** Runs that ended in these states may have left the cluster half-changed: worth a look. */
const UNSETTLED_RUN_STATES = new Set(['failed', 'interrupted']);

const where = (n: NodeReading): string => `${n.name} (${n.host}:${n.sqlPort})`;

function nodeFindings(r: ReportReading): Finding[] {
  const out: Finding[] = [];
  for (const n of r.nodes) {
    if (!n.reachable)
      out.push({
        level: 'red',
        code: 'node-unreachable',
        subject: n.name,
        text: `${where(n)} does not answer: ${n.problem ?? 'no reason given'}`,
      });
    else if (n.role === 'unknown')
      out.push({
        level: 'amber',
        code: 'node-unknown',
        subject: n.name,
        text: `${where(n)} answered, but its role is unknown: ${n.problem ?? 'no reason given'}`,
      });
  }
  if (r.primary === null) {
    const several = r.nodes.filter((n) => n.role === 'primary').length > 1;
    out.push({
      level: 'red',
      code: several ? 'several-primaries' : 'no-primary',
      subject: r.cluster,
      text: r.replicationProblem ?? (several ? 'several nodes say they are the primary' : 'no primary'),
    });
  }
  return out;
}

function lagFindings(r: ReportReading, t: HealthThresholds): Finding[] {
  const primary = r.nodes.find((n) => n.name === r.primary);
  if (!primary) return [];
  const out: Finding[] = [];
  if (r.replication === null || r.replicationProblem !== null)
    out.push({
      level: 'amber',
      code: 'lag-unknown',
      subject: r.cluster,
      text: `replication is partly unknown: ${r.replicationProblem ?? 'no reason given'}`,
    });
  if (r.replication === null) return out;
  for (const n of r.nodes.filter((x) => x.reachable && x.role === 'standby')) {
    const e = r.replication.find((x) => x.applicationName === n.name);
    if (!e) {
      const onOtherTimeline =
        n.timeline !== null && primary.timeline !== null && n.timeline !== primary.timeline;
      out.push({
        level: 'red',
        code: 'standby-missing',
        subject: n.name,
        text:
          `${n.name} is a standby, but ${primary.name} does not stream to it` +
          (onOtherTimeline
            ? ` (it is on timeline ${n.timeline}, the primary on ${primary.timeline}: it may need a rewind)`
            : ''),
      });
      continue;
    }
    if (e.state !== 'streaming')
      out.push({
        level: 'amber',
        code: 'standby-not-streaming',
        subject: n.name,
        text: `${n.name} is in state ${e.state || 'unknown'}, not streaming`,
      });
    if (e.lagBytes === null)
      out.push({
        level: 'amber',
        code: 'lag-unknown',
        subject: n.name,
        text: `${n.name}: lag in bytes unknown`,
      });
    else {
      const level = overLimit(e.lagBytes, t.lagBytes);
      if (level)
        out.push({
          level,
          code: 'lag-bytes',
          subject: n.name,
          text: `${n.name} is ${bytesText(e.lagBytes)} behind ${primary.name} (${level} from ${bytesText(level === 'red' ? t.lagBytes.critical : t.lagBytes.warn)})`,
        });
    }
    const seconds = n.replayDelaySeconds ?? e.lagSeconds;
    const level = seconds === null ? undefined : overLimit(seconds, t.lagSeconds);
    if (seconds !== null && level)
      out.push({
        level,
        code: 'lag-seconds',
        subject: n.name,
        text: `${n.name} replays ${secondsText(seconds)} late (${level} from ${secondsText(level === 'red' ? t.lagSeconds.critical : t.lagSeconds.warn)})`,
      });
  }
  return out;
}

const overLimit = (v: number, l: { warn: number; critical: number }): 'red' | 'amber' | undefined =>
  v >= l.critical ? 'red' : v >= l.warn ? 'amber' : undefined;

function slotFindings(r: ReportReading, t: HealthThresholds): Finding[] {
  if (r.primary === null) return [];
  if (r.slots === null)
    return [
      {
        level: 'amber',
        code: 'slots-unknown',
        subject: r.cluster,
        text: `slots unknown: ${r.slotsProblem ?? 'no reason given'}`,
      },
    ];
  const out: Finding[] = [];
  const limit = bytesText(t.slotRetainedBytes);
  for (const s of r.slots) {
    const held = s.retainedBytes;
    if (!s.active && held !== null && held > 0)
      out.push({
        level: held > t.slotRetainedBytes ? 'red' : 'amber',
        code: 'slot-inactive',
        subject: s.name,
        text: `slot ${s.name} is inactive and holds back ${bytesText(held)} of WAL on ${r.primary} (limit ${limit}): drop it if nothing will use it again, or ${r.primary}'s disk fills`,
      });
    else if (s.active && held !== null && held > t.slotRetainedBytes)
      out.push({
        level: 'amber',
        code: 'slot-retains',
        subject: s.name,
        text: `slot ${s.name} holds back ${bytesText(held)} of WAL on ${r.primary} (limit ${limit})`,
      });
  }
  return out;
}

function archiverFindings(r: ReportReading): Finding[] {
  if (r.primary === null) return [];
  const a = r.archiver;
  if (a === null)
    return [
      {
        level: 'amber',
        code: 'archiver-unknown',
        subject: r.primary,
        text: `WAL archiving unknown: ${r.archiverProblem ?? 'no reason given'}`,
      },
    ];
  if (a.archiveMode === 'off' || a.failedCount === 0 || a.lastFailedAt === null) return [];
  const failing = a.lastArchivedAt === null || Date.parse(a.lastFailedAt) > Date.parse(a.lastArchivedAt);
  if (!failing) return [];
  return [
    {
      level: 'red',
      code: 'archive-failing',
      subject: r.primary,
      text: `WAL archiving fails on ${r.primary}: last failure ${a.lastFailedAt} on ${a.lastFailedWal ?? '?'} (${a.failedCount} failures; last success ${a.lastArchivedAt ?? 'never'}): WAL piles up until archive_command works`,
    },
  ];
}

function diskFindings(r: ReportReading, t: HealthThresholds): Finding[] {
  const out: Finding[] = [];
  for (const n of r.nodes.filter((x) => x.reachable)) {
    if (n.disk === null) {
      out.push({
        level: 'amber',
        code: 'disk-unknown',
        subject: n.name,
        text: `free disk of ${n.name} unknown: ${n.diskProblem ?? 'no reason given'}`,
      });
      continue;
    }
    if (n.disk.totalBytes <= 0) continue;
    const free = (100 * n.disk.freeBytes) / n.disk.totalBytes;
    const level = free < t.minFreeDiskPercent ? 'red' : free < 2 * t.minFreeDiskPercent ? 'amber' : undefined;
    if (level)
      out.push({
        level,
        code: 'disk-low',
        subject: n.name,
        text: `${n.name} has ${bytesText(n.disk.freeBytes)} free (${percentText(free)}) under ${n.disk.path}`,
      });
  }
  return out;
}

function runFindings(runs: readonly LastRun[]): Finding[] {
  return runs
    .filter((r) => UNSETTLED_RUN_STATES.has(r.state))
    .map((r) => ({
      level: 'amber' as const,
      code: 'last-run-failed' as const,
      subject: r.runbook,
      text: `the last ${r.runbook} run (${r.runId}) ended ${r.state}: see \`/kingbase show ${r.runId}\``,
    }));
}

/** Red before amber, otherwise in the order they were found (nodes, lag, slots, archiving, disk, pools, runs). */
export const worstFirst = (findings: readonly Finding[]): Finding[] =>
  findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => LEVEL_RANK[b.f.level] - LEVEL_RANK[a.f.level] || a.i - b.i)
    .map((x) => x.f);

export function assessCluster(input: AssessInput): ClusterReport {
  const { reading: r, thresholds: t } = input;
  const findings = worstFirst([
    ...nodeFindings(r),
    ...lagFindings(r, t),
    ...slotFindings(r, t),
    ...archiverFindings(r),
    ...diskFindings(r, t),
    ...assessPools(r),
    ...runFindings(input.lastRuns),
  ]);
  const level: HealthLevel = findings[0]?.level ?? 'green';
  return {
    cluster: r.cluster,
    level,
    worst: findings[0] ?? null,
    findings,
    reading: r,
    lastRuns: input.lastRuns,
    greenAgain: level === 'green' && input.previous !== undefined && input.previous !== 'green',
  };
}
