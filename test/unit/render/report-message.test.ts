import type { ClusterReport, HealthReport } from '../../../src/health/report-model';
import { messageProblems } from '../../../src/render/message-problems';
import { reportClusterMessage, reportRootMessage, zonedTime } from '../../../src/render/report-message';
import {
  amberReading,
  clusterReport,
  healthReport,
  MiB,
  reading,
  redReading,
  withNodes,
} from '../health/report-fixtures';
import { expectGolden } from './render-fixture';

const cluster = clusterReport;

/** The scheduled report of a Chinese morning, mentioning the DBA group when red. */
const report = (clusters: ClusterReport[], over: Partial<HealthReport> = {}): HealthReport =>
  healthReport(clusters, {
    schedule: 'morning',
    slotAt: '2026-12-02T00:00:00.000Z',
    timezone: 'Asia/Shanghai',
    generatedAt: '2026-12-02T00:00:03.000Z',
    mention: 'S0DBATEAM',
    ...over,
  });

const thread = (r: HealthReport) =>
  r.clusters.filter((c) => c.level !== 'green').map((c) => reportClusterMessage(c, r.timezone));

describe('the health report message', () => {
  it('is one line per cluster when all is green, with what green rests on (golden)', () => {
    const r = report([cluster(reading({}, 'orders')), cluster(reading({}, 'billing'), 'amber')]);
    expect(r.level).toBe('green');
    expect(thread(r)).toEqual([]);
    const root = reportRootMessage(r);
    expect(root.text).not.toContain('subteam');
    expect(JSON.stringify(root)).toContain('(green again)');
    expectGolden('report-green', { root });
  });

  it('is amber with the worst finding on the line and every finding in the thread (golden)', () => {
    const r = report([cluster(amberReading()), cluster(reading({}, 'billing'))]);
    expect(r.level).toBe('amber');
    const root = reportRootMessage(r);
    expect(root.text).not.toContain('subteam');
    expect(JSON.stringify(root)).toContain('+1 more in the thread');
    expectGolden('report-amber', { root, thread: thread(r) });
  });

  it('is red, mentions the group, and says it is late and what it replaced (golden)', () => {
    const r = report([cluster(redReading()), cluster(amberReading()), cluster(reading({}, 'archive'))], {
      lateByMinutes: 7,
      generatedAt: '2026-12-02T00:07:00.000Z',
      skipped: ['2026-12-01T23:00:00.000Z', '2026-12-01T23:30:00.000Z'],
    });
    const root = reportRootMessage(r);
    expect(root.text.startsWith('<!subteam^S0DBATEAM> ')).toBe(true);
    expect(JSON.stringify(root.blocks)).toContain('<!subteam^S0DBATEAM>');
    expect(JSON.stringify(root.blocks)).toContain('late by 7 min: due at 2026-12-02 08:00 Asia/Shanghai');
    expectGolden('report-red', { root, thread: thread(r) });
  });

  it('stays within Slack limits for 60 clusters with many findings, and escapes what it did not write', () => {
    const hostile = 'did not answer: <!channel> & <https://evil|click>';
    const many = Array.from({ length: 60 }, (_, i) =>
      cluster(
        reading(
          {
            nodes: withNodes(reading(), {
              srv2: { reachable: false, role: 'unknown', problem: hostile.repeat(20) },
            }),
            slots: Array.from({ length: 40 }, (__, s) => ({
              name: `slot_${s}`,
              type: 'physical',
              active: false,
              restartLsn: '0/1',
              retainedBytes: (s + 1) * MiB,
            })),
          },
          `cluster${i}`,
        ),
      ),
    );
    const r = report(many);
    const root = reportRootMessage(r);
    expect(messageProblems(root)).toEqual([]);
    expect(JSON.stringify(root)).not.toContain('<!channel>');
    for (const m of thread(r)) {
      expect(messageProblems(m)).toEqual([]);
      expect(JSON.stringify(m)).not.toContain('<!channel>');
    }
  });

  it('shows times on the schedule clock', () => {
    expect(zonedTime('2026-12-02T00:00:00.000Z', 'Asia/Shanghai')).toBe('2026-12-02 08:00 Asia/Shanghai');
    expect(zonedTime('2026-12-02T00:00:00.000Z', 'UTC')).toBe('2026-12-02 00:00 UTC');
  });
});
