import { PNG } from 'pngjs';
import type { LagSample } from '../../../src/core/health-levels';
import {
  LAG_CHART_SIZE,
  lagChartFonts,
  lagChartSpec,
  MIB,
  NO_SAMPLES_TEXT,
  renderLagChart,
  SERIES_COLOURS,
  type LagChart,
  type LagChartInput,
} from '../../../src/render/lag-chart';

// The lag chart as its two products: the Chart.js spec (its data must be the stored samples) and the
// PNG drawn from it, decoded here and read pixel by pixel.

const to = new Date('2025-03-05T06:00:00Z');
const from = new Date(to.getTime() - 24 * 3600_000);
const minute = (i: number) => new Date(from.getTime() + i * 60_000).toISOString();
const sample = (standby: string, i: number, lagBytes: number | null, cluster = 'ESHA'): LagSample => ({
  cluster,
  standby,
  at: minute(i),
  lagBytes,
  lagSeconds: lagBytes === null ? null : lagBytes / MIB,
});
const input = (samples: LagSample[], extra: Partial<LagChartInput> = {}): LagChartInput => ({
  cluster: 'ESHA',
  samples,
  from,
  to,
  timezone: 'Europe/Paris',
  ...extra,
});

/** Per-minute samples over 24 h; each standby at its own steady level, so its line is flat. */
function day(standbys: readonly string[], lagOf: (standby: number, i: number) => number | null): LagSample[] {
  const out: LagSample[] = [];
  for (let i = 0; i < 1440; i++) standbys.forEach((s, k) => out.push(sample(s, i, lagOf(k, i))));
  return out;
}

const rgb = (hex: string) =>
  [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

/** Pixels within `tolerance` of `hex` inside the columns [x0, x1) and rows of the plot. */
function countColour(
  chart: LagChart,
  img: PNG,
  hex: string,
  x0 = chart.plotArea.left,
  x1 = chart.plotArea.right,
) {
  const [r, g, b] = rgb(hex);
  let n = 0;
  // Rows one past the plot on each side: a line at 0 or at the top is drawn half outside it.
  for (let y = Math.floor(chart.plotArea.top) - 1; y <= Math.ceil(chart.plotArea.bottom) + 1; y++) {
    for (let x = Math.ceil(x0); x < Math.floor(x1); x++) {
      const o = (y * img.width + x) * 4;
      const d = Math.abs(img.data[o]! - r) + Math.abs(img.data[o + 1]! - g) + Math.abs(img.data[o + 2]! - b);
      if (d <= 24) n++;
    }
  }
  return n;
}

const xPixel = (chart: LagChart, ms: number) =>
  chart.plotArea.left +
  ((ms - from.getTime()) / (to.getTime() - from.getTime())) * (chart.plotArea.right - chart.plotArea.left);

describe('lagChartSpec', () => {
  it('has one line per standby, in name order, whose data are exactly its samples in MiB', () => {
    const samples = [
      sample('srv10', 0, 5 * MIB),
      sample('srv2', 0, 0),
      sample('srv3', 0, 1536 * 1024),
      sample('srv2', 1, 3 * MIB),
      sample('srv10', 1, 123_456_789),
      sample('srv3', 1, null),
    ];
    const spec = lagChartSpec(input(samples));
    const sets = spec.data.datasets;
    expect(sets.map((d) => d.label)).toEqual(['srv2', 'srv3', 'srv10']);
    expect(sets.map((d) => d.data.map((p) => p.y))).toEqual([
      [0, 3],
      [1.5, null],
      [5, 123_456_789 / 1024 / 1024],
    ]);
    for (const set of sets) {
      const mine = samples.filter((s) => s.standby === set.label);
      expect(set.data).toEqual(
        mine.map((s) => ({
          x: Date.parse(s.at),
          y: s.lagBytes === null ? null : s.lagBytes / MIB,
          at: s.at,
          lagBytes: s.lagBytes,
        })),
      );
    }
    expect(new Set(sets.map((d) => d.borderColor)).size).toBe(3);
  });

  it('spans [from, to] in the given zone, titled with the cluster and the zone', () => {
    const spec = lagChartSpec(input([sample('srv2', 0, 1)], { cluster: 'ESHA', timezone: 'Asia/Kolkata' }));
    const x = spec.options!.scales!.x!;
    expect([x.min, x.max]).toEqual([from.getTime(), to.getTime()]);
    expect(spec.options!.plugins!.title!.text).toBe('ESHA: replay lag, last 24 h (Asia/Kolkata)');
    // Ticks on local whole hours: Kolkata is UTC+05:30, so every tick is at hh:30 UTC.
    const axis = { ticks: [] as { value: number }[] };
    (x.afterBuildTicks as (a: typeof axis) => void)(axis);
    expect(axis.ticks.length).toBeGreaterThanOrEqual(6);
    for (const { value } of axis.ticks) {
      expect(value).toBeGreaterThanOrEqual(from.getTime());
      expect(value).toBeLessThanOrEqual(to.getTime());
      expect(new Date(value).getUTCMinutes()).toBe(30);
    }
    const label = (x.ticks as { callback: (v: number) => unknown }).callback;
    const midnight = Date.parse('2025-03-04T18:30:00Z'); // 00:00 on 5 Mar in Kolkata
    expect(axis.ticks.map((t) => t.value)).toContain(midnight);
    expect(label(midnight)).toEqual(['00:00', '5 Mar']);
  });

  it('draws warn and critical as horizontal rules in MiB, and none without thresholds', () => {
    const thresholds = { warn: 16 * MIB, critical: 256 * MIB };
    const rules = lagChartSpec(input([], { thresholds })).options!.plugins!.annotation!.annotations as Record<
      string,
      { type: string; scaleID?: string; value?: number }
    >;
    expect(rules.warn).toMatchObject({ type: 'line', scaleID: 'y', value: 16 });
    expect(rules.critical).toMatchObject({ type: 'line', scaleID: 'y', value: 256 });
    const none = lagChartSpec(input([sample('srv2', 0, 1)])).options!.plugins!.annotation!.annotations;
    expect(Object.keys(none ?? {})).toEqual([]);
  });

  it('keeps null readings as gaps (null y, spanGaps off), never as zeros', () => {
    const spec = lagChartSpec(
      input([sample('srv2', 0, 2 * MIB), sample('srv2', 1, null), sample('srv2', 2, 0)]),
    );
    const [set] = spec.data.datasets;
    expect(set!.data.map((p) => p.y)).toEqual([2, null, 0]);
    expect(set!.spanGaps).toBe(false);
  });

  it("leaves out another cluster's samples", () => {
    const spec = lagChartSpec(input([sample('srv2', 0, 1), sample('srv9', 0, 1, 'OTHER')]));
    expect(spec.data.datasets.map((d) => d.label)).toEqual(['srv2']);
  });
});

describe('renderLagChart', () => {
  it('finds DejaVu Sans on this machine (the image and CI install fonts-dejavu-core)', () => {
    expect(lagChartFonts()).toMatchObject({ ok: true });
  });

  it('draws a real PNG of the stated size with every standby in its colour', async () => {
    const standbys = ['srv2', 'srv3', 'srv4'];
    const chart = await renderLagChart(
      input(
        day(standbys, (k) => (k + 1) * 4 * MIB),
        { thresholds: { warn: 16 * MIB, critical: 256 * MIB } },
      ),
    );
    const img = PNG.sync.read(chart.png);
    expect([img.width, img.height]).toEqual([chart.width, chart.height]);
    expect([chart.width, chart.height]).toEqual([LAG_CHART_SIZE.width, LAG_CHART_SIZE.height]);
    let ink = 0;
    for (let o = 0; o < img.data.length; o += 4)
      if (img.data[o]! + img.data[o + 1]! + img.data[o + 2]! < 600) ink++;
    expect(ink).toBeGreaterThan(5000);
    const colours = chart.spec.data.datasets.map((d) => d.borderColor as string);
    expect(colours).toEqual(SERIES_COLOURS.slice(0, 3));
    for (const c of colours) expect(countColour(chart, img, c)).toBeGreaterThan(500);
    // A colour no series has is absent from the plot: the count above is not just noise.
    expect(countColour(chart, img, SERIES_COLOURS[5])).toBe(0);
  });

  it('leaves the columns of a null stretch empty instead of dropping the line to zero', async () => {
    const gap = [600, 720] as const;
    const chart = await renderLagChart(
      input(
        day(['srv2'], (_, i) => (i > gap[0] && i < gap[1] ? null : 8 * MIB)),
        { thresholds: { warn: 16 * MIB, critical: 256 * MIB } },
      ),
    );
    const img = PNG.sync.read(chart.png);
    const colour = SERIES_COLOURS[0];
    const left = xPixel(chart, Date.parse(minute(gap[0] + 5)));
    const right = xPixel(chart, Date.parse(minute(gap[1] - 5)));
    expect(right - left).toBeGreaterThan(40);
    expect(countColour(chart, img, colour, left, right)).toBe(0);
    expect(countColour(chart, img, colour, chart.plotArea.left, left)).toBeGreaterThan(300);
    expect(countColour(chart, img, colour, right, chart.plotArea.right)).toBeGreaterThan(300);
  });

  it('says "no samples yet" in the plot when there are none, still as a valid PNG', async () => {
    const chart = await renderLagChart(input([], { thresholds: { warn: 16 * MIB, critical: 256 * MIB } }));
    expect(chart.spec.data.datasets).toEqual([]);
    const notes = chart.spec.options!.plugins!.annotation!.annotations as Record<
      string,
      { content?: unknown }
    >;
    expect(notes.empty?.content).toBe(NO_SAMPLES_TEXT);
    const img = PNG.sync.read(chart.png);
    expect([img.width, img.height]).toEqual([chart.width, chart.height]);
    // The label's dark text in the middle of the plot (grid lines and axes are light grey).
    const { left, right, top, bottom } = chart.plotArea;
    let dark = 0;
    for (let y = Math.floor(top + (bottom - top) * 0.35); y < top + (bottom - top) * 0.65; y++) {
      for (let x = Math.floor(left + (right - left) * 0.3); x < left + (right - left) * 0.7; x++) {
        const o = (y * img.width + x) * 4;
        if (img.data[o]! + img.data[o + 1]! + img.data[o + 2]! < 200) dark++;
      }
    }
    expect(dark).toBeGreaterThan(200);
  });

  it('renders 24 h of per-minute samples for 3 standbys (4320 points) in well under a few seconds', async () => {
    const samples = day(['srv2', 'srv3', 'srv4'], (k, i) =>
      i % 97 === 0 ? null : (k + 1) * MIB * (1 + Math.sin(i / 60)),
    );
    expect(samples).toHaveLength(4320);
    const started = performance.now();
    const chart = await renderLagChart(
      input(samples, { thresholds: { warn: 16 * MIB, critical: 256 * MIB } }),
    );
    const ms = performance.now() - started;
    expect(chart.spec.data.datasets.map((d) => d.data.length)).toEqual([1440, 1440, 1440]);
    expect(PNG.sync.read(chart.png).width).toBe(LAG_CHART_SIZE.width);
    expect(ms).toBeLessThan(5000);
  });
});
