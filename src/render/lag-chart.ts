import { existsSync } from 'node:fs';
import { createCanvas, GlobalFonts } from '@napi-rs/canvas';
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  SubTitle,
  Title,
  type ChartConfiguration,
  type Plugin,
} from 'chart.js';
import annotationPlugin from 'chartjs-plugin-annotation';
import type { LagSample, WarnCritical } from '../core/health-levels';
import { bytesText } from '../health/health-units';

// The report's lag chart: each standby's replay lag over the last 24 h as a PNG for Slack. Chart.js
// draws it on @napi-rs/canvas (Skia, prebuilt through npm): both load as CommonJS, so the same code
// runs under jest, tsx, dist/ and the image. The spec is plain Chart.js configuration whose data are
// the samples themselves, so tests compare it with the stored history; the PNG is drawn from it.

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  Title,
  SubTitle,
  Legend,
  annotationPlugin,
);

export interface LagChartInput {
  readonly cluster: string;
  /** The cluster's lag history, oldest first (as the state store returns it). */
  readonly samples: readonly LagSample[];
  readonly from: Date;
  readonly to: Date;
  /** IANA zone the time axis is read in (the schedule's), e.g. `Europe/Paris`. */
  readonly timezone: string;
  /** Lag thresholds in bytes, drawn as horizontal rules. */
  readonly thresholds?: WarnCritical;
}

/** One sample as a point: x epoch ms, y MiB (null: no reading, drawn as a gap). */
export interface LagPoint {
  readonly x: number;
  readonly y: number | null;
  readonly at: string;
  readonly lagBytes: number | null;
}

export type LagChartSpec = ChartConfiguration<'line', LagPoint[]>;

export interface LagChart {
  readonly png: Buffer;
  readonly width: number;
  readonly height: number;
  readonly spec: LagChartSpec;
  /** Where the plot is drawn in the PNG (pixels), for readers that locate series in it. */
  readonly plotArea: {
    readonly left: number;
    readonly top: number;
    readonly right: number;
    readonly bottom: number;
  };
}

export const LAG_CHART_SIZE = { width: 900, height: 360 } as const;
export const MIB = 1024 ** 2;
export const NO_SAMPLES_TEXT = 'no samples yet';
/** Series colours, in standby name order; no red or amber, which the threshold rules use. */
// prettier-ignore
export const SERIES_COLOURS = [
  '#1f77b4', '#2ca02c', '#9467bd', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#393b79', '#637939',
] as const;
const WARN_COLOUR = '#d08c00';
const CRITICAL_COLOUR = '#c62828';
const FONT_FAMILY = 'DejaVu Sans';
// Debian/Ubuntu (fonts-dejavu-core), Fedora, Alpine.
const FONT_DIRS = [
  '/usr/share/fonts/truetype/dejavu',
  '/usr/share/fonts/dejavu-sans-fonts',
  '/usr/share/fonts/dejavu',
];

const font = (size: number, weight: 'normal' | 'bold' = 'normal') => ({ family: FONT_FAMILY, size, weight });

const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** The chart as Chart.js configuration: one line per standby (name order), the samples as its data. */
export function lagChartSpec(input: LagChartInput): LagChartSpec {
  const from = input.from.getTime();
  const to = input.to.getTime();
  const samples = input.samples.filter((s) => s.cluster === input.cluster);
  const standbys = [...new Set(samples.map((s) => s.standby))].sort(byName);
  const datasets = standbys.map((standby, i) => {
    const data = samples
      .filter((s) => s.standby === standby)
      .map((s) => ({
        x: Date.parse(s.at),
        y: s.lagBytes === null ? null : s.lagBytes / MIB,
        at: s.at,
        lagBytes: s.lagBytes,
      }));
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length]!;
    return {
      label: standby,
      data,
      borderColor: colour,
      backgroundColor: colour,
      borderWidth: 2,
      // A reading alone between gaps would draw nothing as a line: show it as a dot.
      pointRadius: data.map((p, j) =>
        p.y !== null && data[j - 1]?.y == null && data[j + 1]?.y == null ? 2.5 : 0,
      ),
      spanGaps: false,
      tension: 0,
    };
  });
  const t = input.thresholds;
  const empty = samples.length === 0;
  const subtitle =
    `${axisTime(from, input.timezone, true)} – ${axisTime(to, input.timezone, true)}` +
    (t ? `   ·   warn ${bytesText(t.warn)}, critical ${bytesText(t.critical)}` : '');
  const ticks = timeTicks(from, to, input.timezone);
  return {
    type: 'line',
    data: { datasets },
    options: {
      responsive: false,
      animation: false,
      devicePixelRatio: 1,
      events: [],
      parsing: false,
      font: font(12),
      layout: { padding: { left: 8, right: 16, top: 4, bottom: 4 } },
      plugins: {
        title: {
          display: true,
          text: `${input.cluster}: replay lag, last 24 h (${input.timezone})`,
          font: font(15, 'bold'),
          color: '#222',
        },
        subtitle: { display: true, text: subtitle, font: font(12), color: '#555', padding: { bottom: 6 } },
        legend: { display: standbys.length > 0, labels: { font: font(12), boxWidth: 14, boxHeight: 3 } },
        annotation: {
          clip: true,
          annotations: notes(t, empty),
        },
      },
      scales: {
        x: {
          type: 'linear',
          min: from,
          max: to,
          // Hour-aligned ticks in the report's zone, not Chart.js's round numbers of epoch ms.
          afterBuildTicks: (axis) => {
            axis.ticks = ticks.map((value) => ({ value }));
          },
          ticks: {
            font: font(11),
            maxRotation: 0,
            autoSkip: false,
            callback: (value) => tickLabel(Number(value), input.timezone),
          },
        },
        y: {
          type: 'linear',
          beginAtZero: true,
          // Room for the warn rule, so a quiet day reads as far below it; a higher lag extends the axis.
          ...(t ? { suggestedMax: (t.warn * 1.15) / MIB } : {}),
          title: { display: true, text: 'replay lag (MiB)', font: font(12) },
          ticks: { font: font(11) },
        },
      },
    },
  };
}

function notes(t: WarnCritical | undefined, empty: boolean) {
  return {
    ...(t
      ? { warn: rule('warn', t.warn, WARN_COLOUR), critical: rule('critical', t.critical, CRITICAL_COLOUR) }
      : {}),
    // Without coordinates a label sits in the middle of the plot.
    ...(empty
      ? { empty: { type: 'label' as const, content: NO_SAMPLES_TEXT, color: '#222', font: font(18, 'bold') } }
      : {}),
  };
}

// (Typed by the spec it lands in: the plugin's named types do not resolve under nodenext.)
function rule(name: string, bytes: number, colour: string) {
  return {
    type: 'line' as const,
    scaleID: 'y',
    value: bytes / MIB,
    borderColor: colour,
    borderWidth: 1.5,
    borderDash: [6, 4],
    adjustScaleRange: false,
    label: {
      display: true,
      content: `${name} ${bytesText(bytes)}`,
      position: 'start' as const,
      yAdjust: -9,
      backgroundColor: 'rgba(255,255,255,0.85)',
      color: colour,
      font: font(11),
      padding: 2,
    },
  };
}

const formats = new Map<string, Intl.DateTimeFormat>();
function parts(ms: number, timezone: string): Record<'month' | 'day' | 'hour' | 'minute', string> {
  let f = formats.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      month: 'short',
      day: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timezone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { month: p.month ?? '', day: p.day ?? '', hour: p.hour ?? '', minute: p.minute ?? '' };
}

function axisTime(ms: number, timezone: string, withDate: boolean): string {
  const p = parts(ms, timezone);
  return `${withDate ? `${p.day} ${p.month} ` : ''}${p.hour}:${p.minute}`;
}

/** `HH:mm`, with the date under it at local midnight. */
function tickLabel(ms: number, timezone: string): string | string[] {
  const p = parts(ms, timezone);
  const time = `${p.hour}:${p.minute}`;
  return p.hour === '00' && p.minute === '00' ? [time, `${p.day} ${p.month}`] : time;
}

const QUARTER = 15 * 60_000;
/** Local whole hours every 1, 2, 3, 6, 12 or 24 h (at most ~9 ticks); quarter-hour steps fit every zone. */
function timeTicks(from: number, to: number, timezone: string): number[] {
  if (!(to > from)) return [];
  const hours = (to - from) / 3_600_000;
  const step = [1, 2, 3, 6, 12, 24].find((s) => hours / s <= 9) ?? 24;
  const ticks: number[] = [];
  for (let ms = Math.ceil(from / QUARTER) * QUARTER; ms <= to; ms += QUARTER) {
    const p = parts(ms, timezone);
    if (p.minute === '00' && Number(p.hour) % step === 0) ticks.push(ms);
  }
  const every = Math.ceil(ticks.length / 9);
  return ticks.filter((_, i) => i % every === 0);
}

/** The font files the chart is drawn with, or why there are none (the slim image has no fonts). */
export function lagChartFonts():
  | { readonly ok: true; readonly regular: string; readonly bold: string }
  | { readonly ok: false; readonly message: string; readonly hint: string } {
  for (const dir of FONT_DIRS) {
    const regular = `${dir}/DejaVuSans.ttf`;
    const bold = `${dir}/DejaVuSans-Bold.ttf`;
    if (existsSync(regular) && existsSync(bold)) return { ok: true, regular, bold };
  }
  return {
    ok: false,
    message: `the lag chart's font DejaVu Sans was not found in ${FONT_DIRS.join(', ')}`,
    hint: 'install it: apt-get install fonts-dejavu-core (Debian/Ubuntu), dejavu-sans-fonts (Fedora), font-dejavu (Alpine)',
  };
}

let fontsLoaded = false;
/** Registers the DejaVu files by path once, so text never depends on what fontconfig would pick. */
function loadFonts(): void {
  if (fontsLoaded) return;
  const fonts = lagChartFonts();
  if (!fonts.ok) throw new Error(`${fonts.message}; ${fonts.hint}`);
  GlobalFonts.registerFromPath(fonts.regular, FONT_FAMILY);
  GlobalFonts.registerFromPath(fonts.bold, FONT_FAMILY);
  fontsLoaded = true;
}

// Chart.js leaves the canvas transparent; Slack shows PNGs on light and dark themes alike.
const whiteBackground: Plugin<'line'> = {
  id: 'kbopsWhiteBackground',
  beforeDraw: (chart) => {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

/** The chart drawn as a PNG of LAG_CHART_SIZE. Rejects when DejaVu Sans is missing (see lagChartFonts). */
export async function renderLagChart(input: LagChartInput): Promise<LagChart> {
  loadFonts();
  const spec = lagChartSpec(input);
  const { width, height } = LAG_CHART_SIZE;
  const canvas = createCanvas(width, height);
  // Chart.js takes a DOM-less 2D context (its BasicPlatform); @napi-rs/canvas's matches it at run time.
  const ctx = canvas.getContext('2d') as unknown as ConstructorParameters<typeof Chart>[0];
  const chart = new Chart(ctx, { ...spec, plugins: [whiteBackground] });
  try {
    const area = chart.chartArea;
    const plotArea = { left: area.left, top: area.top, right: area.right, bottom: area.bottom };
    const png = await canvas.encode('png');
    return { png, width, height, spec, plotArea };
  } finally {
    chart.destroy();
  }
}
