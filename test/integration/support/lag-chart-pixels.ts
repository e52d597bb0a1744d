import { PNG } from 'pngjs';
import type { LagSample } from '../../../src/core/health-levels';
import type { HealthReport } from '../../../src/health/report-model';
import type { LagChart } from '../../../src/render/lag-chart';

// The lag chart read back: the PNG decoded, how much of it is drawn, and where one series' colour
// lies in the plot; and the samples a list of reports read, as the state store should keep them.

export interface ChartPixels {
  readonly width: number;
  readonly height: number;
  /** Pixels not (nearly) white. */
  readonly inked: number;
  /** Plot pixels of the series colour, at any coverage (anti-aliased edges count). */
  readonly series: { readonly xs: number[]; readonly ys: number[] };
}

/** `#rrggbb` as numbers. */
const rgbOf = (hex: string): number[] => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));

/**
 * Decodes the chart's PNG. A pixel is of `colour` when each channel is as far from white as the
 * colour is by the same fraction (the colour drawn over white); greys and other hues are not.
 */
export function chartPixels(chart: LagChart, colour: string): ChartPixels {
  const png = PNG.sync.read(chart.png);
  const c = rgbOf(colour);
  const area = chart.plotArea;
  let inked = 0;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let y = 0; y < png.height; y++)
    for (let x = 0; x < png.width; x++) {
      const px = [0, 1, 2].map((k) => png.data[(y * png.width + x) * 4 + k]!);
      if (px.some((v) => v < 250)) inked++;
      if (y <= area.top || y >= area.bottom) continue;
      const cover = px.map((v, k) => (255 - v) / (255 - c[k]!));
      const mean = (cover[0]! + cover[1]! + cover[2]!) / 3;
      if (mean > 0.3 && Math.max(...cover) - Math.min(...cover) < 0.15) {
        xs.push(x);
        ys.push(y);
      }
    }
  return { width: png.width, height: png.height, inked, series: { xs, ys } };
}

/** What each report read, standby by standby in name order (the order the store keeps them in). */
export const samplesRead = (reports: readonly HealthReport[]): LagSample[] =>
  reports.flatMap((rep) =>
    rep.clusters.flatMap((c) =>
      [...(c.reading.replication ?? [])]
        .sort((x, y) => x.applicationName.localeCompare(y.applicationName))
        .map((e) => ({
          cluster: c.cluster,
          standby: e.applicationName,
          at: c.reading.readAt,
          lagBytes: e.lagBytes,
          lagSeconds: c.reading.nodes.find((n) => n.name === e.applicationName)?.replayDelaySeconds ?? null,
        })),
    ),
  );
