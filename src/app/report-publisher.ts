import type { ChatSurface } from '../chatops/chat-surface';
import type { ClusterConfig, Inventory, ReportCharts, ReportSchedule } from '../config/normalise-inventory';
import type { HealthReport } from '../health/report-model';
import { renderLagChart } from '../render/lag-chart';
import {
  lagChartTitle,
  reportClusterMessage,
  reportRootMessage,
  reportSkippedMessage,
} from '../render/report-message';
import type { PostGuard, ReportPublisher, SlotPlan } from './report-scheduler';
import type { ReportService } from './report-service';

// Posts a health report: the root message (one line per cluster), then in its thread one reply per
// cluster that is not green and the lag charts. The root is what counts: once it is in the channel
// the slot is done; a thread reply that fails is logged, not retried as a second report.

export interface ReportPosting {
  readonly surface: () => ChatSurface;
  readonly service: ReportService;
  readonly onError: (what: string, err: unknown) => void;
}

const DAY_MS = 24 * 3600_000;

/** Posts `report` into `channel` (root, thread, charts); `guard` wraps the root when a slot is claimed. */
export async function postReport(
  p: ReportPosting,
  channel: string,
  report: HealthReport,
  charts: ReportCharts,
  guard?: PostGuard,
): Promise<string> {
  const surface = p.surface();
  await guard?.beforePost();
  const { ts } = await surface.post(channel, reportRootMessage(report));
  await guard?.posted();
  for (const c of report.clusters) {
    if (c.level === 'green') continue;
    await surface
      .post(channel, reportClusterMessage(c, report.timezone), ts)
      .catch((err: unknown) => p.onError(`the ${c.cluster} detail of a health report`, err));
  }
  if (charts === 'none' || !surface.uploadImage) return ts;
  const charted = report.clusters.filter((c) => charts === 'all' || c.level !== 'green');
  const to = new Date(report.generatedAt);
  for (const c of charted) {
    try {
      const samples = await p.service.lagHistory(c.cluster);
      const chart = await renderLagChart({
        cluster: c.cluster,
        samples,
        from: new Date(to.getTime() - DAY_MS),
        to,
        timezone: report.timezone,
      });
      await surface.uploadImage(channel, ts, {
        filename: lagChartTitle(c.cluster),
        title: `${c.cluster}: replay lag, last 24 h`,
        png: chart.png,
        width: chart.width,
        height: chart.height,
      });
    } catch (err) {
      p.onError(`the ${c.cluster} lag chart`, err);
    }
  }
  return ts;
}

export function reportPublisher(p: ReportPosting & { readonly inventory: Inventory }): ReportPublisher {
  const clustersOf = (s: ReportSchedule): ClusterConfig[] =>
    s.clusters.flatMap((name) => (p.inventory.clusters[name] ? [p.inventory.clusters[name]] : []));
  return {
    publish: async (schedule: ReportSchedule, plan: SlotPlan, guard: PostGuard) => {
      const report = await p.service.report({ clusters: clustersOf(schedule), schedule, plan });
      await postReport(p, schedule.channel, report, schedule.charts, guard);
      await p.service.keepLevels(schedule, report);
    },
    skipNote: async (schedule, slotAt, minutesLate) => {
      await p.surface().post(
        schedule.channel,
        reportSkippedMessage({
          schedule: schedule.name,
          slotAt: slotAt.toISOString(),
          minutesLate,
          lateLimitMinutes: schedule.lateLimitMinutes,
          timezone: schedule.timezone,
        }),
      );
    },
  };
}
