import type { ClusterConfig } from '../config/normalise-inventory';
import type { HealthReport } from '../health/report-model';
import type { ChatSurface } from './chat-surface';

// What `/kingbase report` needs of the health reports (composed in src/app/compose-runs.ts): read
// and judge clusters now, then post the report where it was asked for.

export interface Reporter {
  /** Reads and judges the clusters now (their lag kept for the charts). Never throws for a silent host. */
  report(clusters: readonly ClusterConfig[]): Promise<HealthReport>;
  /** Posts it in `channel`: the root line per cluster, details and charts in its thread. */
  post(surface: ChatSurface, channel: string, report: HealthReport): Promise<void>;
}
