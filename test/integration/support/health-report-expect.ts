import { statfsSync } from 'node:fs';
import type { ClusterConfig, ReportSchedule } from '../../../src/config/normalise-inventory';
import type { HealthLevel } from '../../../src/core/health-levels';
import type { ReportService } from '../../../src/app/report-service';
import type { ClusterReport, Finding, FindingCode, HealthReport } from '../../../src/health/report-model';
import { reportClusterMessage, reportRootMessage } from '../../../src/render/report-message';
import type { SlackMessage } from '../../../src/render/slack-message';
import type { LabLayout } from '../../../lab/lab-layout';
import { sqlOn } from './lab-tools';

// What the health-report acceptance cases assert again and again: one report of one cluster with its
// rendered root and thread text, a finding as the line and detail people read, and a lab read
// completely (every real node answering with real numbers, checked against the lab itself).

/** The verdict marks as the issue describes them: green, amber, red. */
export const MARKS: Readonly<Record<HealthLevel, string>> = {
  green: ':large_green_circle:',
  amber: ':large_yellow_circle:',
  red: ':red_circle:',
};

/** Every mrkdwn and plain text string of a message's blocks, one per line. */
export function blockText(m: SlackMessage): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (k === 'text' && typeof x === 'string') out.push(x);
        else walk(x);
      }
  };
  walk(m.blocks);
  return out.join('\n');
}

export interface OneReport {
  readonly report: HealthReport;
  readonly c: ClusterReport;
  /** Wall time of report(), ms. */
  readonly ms: number;
  /** The root message's block text, and its notification text. */
  readonly root: string;
  readonly rootText: string;
  /** The cluster's thread reply, block text. */
  readonly thread: string;
}

export async function reportOne(
  service: ReportService,
  cluster: ClusterConfig,
  schedule: ReportSchedule,
): Promise<OneReport> {
  const started = performance.now();
  const report = await service.report({ clusters: [cluster], schedule });
  const ms = performance.now() - started;
  const root = reportRootMessage(report);
  return {
    report,
    c: report.clusters[0]!,
    ms,
    root: blockText(root),
    rootText: root.text,
    thread: blockText(reportClusterMessage(report.clusters[0]!, report.timezone)),
  };
}

/**
 * The cluster's verdict is `level` with `worst` as its worst finding, and people read it: the root
 * line is the mark, the cluster and the finding's words; the thread has the level and every finding.
 */
export function expectWorst(
  r: OneReport,
  level: Exclude<HealthLevel, 'green'>,
  worst: { code: FindingCode; subject: string },
): Finding {
  expect(r.report.level).toBe(level);
  expect(r.c.level).toBe(level);
  expect(r.c.worst).toMatchObject({ level, ...worst });
  const f = r.c.worst!;
  expect(r.root).toContain(`${MARKS[level]} *${r.c.cluster}* ${f.text}`);
  expect(r.rootText).toContain(f.text);
  expect(r.thread).toContain(`${MARKS[level]} *${r.c.cluster}* is ${level}`);
  for (const g of r.c.findings) expect(r.thread).toContain(`${MARKS[g.level]} ${g.text}`);
  return f;
}

export const codesOf = (c: ClusterReport): [FindingCode, string, HealthLevel][] =>
  c.findings.map((f) => [f.code, f.subject, f.level]);

/**
 * Every lab node named in `names` answered with its real numbers: role, timeline (the node's own
 * pg_control_checkpoint), free disk (statfs of its data directory, which this machine shares), a
 * standby's replay delay, and the pool's view of every backend.
 */
export async function expectNodesRead(
  lab: LabLayout,
  c: ClusterReport,
  names: readonly string[],
): Promise<void> {
  const r = c.reading;
  expect(r.primary).toBe(lab.hosts[0].name);
  for (const name of names) {
    const host = lab.hosts.find((h) => h.name === name)!;
    const n = r.nodes.find((x) => x.name === name);
    expect(n).toMatchObject({
      reachable: true,
      role: host.index === 0 ? 'primary' : 'standby',
      problem: null,
      diskProblem: null,
    });
    const [tl] = await sqlOn<{ t: number }>(
      lab,
      host,
      'select timeline_id as t from pg_control_checkpoint()',
    );
    expect(n!.timeline).toBe(Number(tl!.t));
    expect(n!.disk!.path).toBe(host.dataDir);
    const fs = statfsSync(host.dataDir);
    expect(Math.abs(n!.disk!.totalBytes - fs.blocks * fs.bsize)).toBeLessThan(fs.blocks * fs.bsize * 0.01);
    expect(Math.abs(n!.disk!.freeBytes - fs.bavail * fs.bsize)).toBeLessThan(256 * 1024 ** 2);
    if (host.index === 0) expect(n!.replayDelaySeconds).toBeNull();
    else expect(n!.replayDelaySeconds).toEqual(expect.any(Number));
  }
  expect(r.archiverProblem).toBeNull();
  expect(r.archiver).toMatchObject({ archiveMode: 'off', failedCount: 0 });
  expect(r.pools.map((p) => p.problem)).toEqual([null]);
}
