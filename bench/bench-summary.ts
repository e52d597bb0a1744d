import { cpuSum, type CpuDelta } from './cpu-profile';
import { mean, median, mib, ms, percentile, table } from './bench-stats';
import type { KbopsRound } from './kbops-round';
import type { BaselineRound } from './psql-baseline';

// The numbers of one bench run: what is printed and what goes to bench/results/report-<date>.json.
// A ratio is claimed only when every round of both sides read everything (else the verdict is
// "incomplete": a side that skipped work would look fast for the wrong reason).

export interface Rounds {
  readonly kbops: readonly KbopsRound[];
  readonly kbopsCpu: readonly CpuDelta[];
  readonly baseline: readonly BaselineRound[];
  readonly baselineCpu: readonly CpuDelta[];
  readonly rssAtRestBytes: number;
  readonly load: { readonly before: string; readonly after: string };
}

export type Verdict = 'met' | 'below target' | 'incomplete';

export interface BenchSummary {
  readonly clusters: number;
  readonly nodes: number;
  readonly target: number;
  readonly ratio: number;
  readonly pairedRatios: readonly number[];
  readonly verdict: Verdict;
  readonly load: Rounds['load'];
  readonly kbops: {
    readonly medianMs: number;
    readonly p90Ms: number;
    readonly roundsMs: readonly number[];
    readonly incompleteRounds: number;
    readonly problems: readonly string[];
    readonly peakRssBytes: number;
    readonly rssAtRestBytes: number;
    readonly processMaxRssBytes: number;
    readonly levels: Readonly<Record<string, number>>;
    readonly nodeReadMs: { readonly median: number; readonly p90: number; readonly max: number };
    readonly cpuPerRoundMs: CpuDelta;
  };
  readonly baseline: {
    readonly medianMs: number;
    readonly p90Ms: number;
    readonly roundsMs: readonly number[];
    readonly incompleteRounds: number;
    readonly problems: readonly string[];
    readonly processes: number;
    readonly psqlNodeMs: number;
    readonly sshDfMs: number;
    readonly psqlPoolMs: number;
    readonly cpuPerRoundMs: CpuDelta;
  };
}

const perRound = (ds: readonly CpuDelta[]): CpuDelta => {
  const d = cpuSum(ds);
  const n = Math.max(1, ds.length);
  return {
    machineBusyMs: d.machineBusyMs / n,
    machineTotalMs: d.machineTotalMs / n,
    selfMs: d.selfMs / n,
    childrenMs: d.childrenMs / n,
    trees: Object.fromEntries(Object.entries(d.trees).map(([k, v]) => [k, v / n])),
  };
};

export function summarize(
  r: Rounds,
  o: { clusters: number; nodes: number; target: number; processMaxRssBytes: number },
): BenchSummary {
  const kMs = r.kbops.map((x) => x.ms);
  const bMs = r.baseline.map((x) => x.ms);
  const ratio = median(bMs) / median(kMs);
  const kBad = r.kbops.filter((x) => x.problems.length > 0);
  const bBad = r.baseline.filter((x) => x.problems.length > 0);
  const reads = r.kbops.flatMap((x) => x.nodeReadMs);
  const bMean = (f: (x: BaselineRound) => number) => mean(r.baseline.map(f));
  return {
    clusters: o.clusters,
    nodes: o.nodes,
    target: o.target,
    ratio,
    pairedRatios: kMs.map((v, i) => (bMs[i] ?? Number.NaN) / v),
    verdict: kBad.length + bBad.length > 0 ? 'incomplete' : ratio >= o.target ? 'met' : 'below target',
    load: r.load,
    kbops: {
      medianMs: median(kMs),
      p90Ms: percentile(kMs, 90),
      roundsMs: kMs,
      incompleteRounds: kBad.length,
      problems: kBad[0]?.problems.slice(0, 20) ?? [],
      peakRssBytes: Math.max(...r.kbops.map((x) => x.peakRssBytes)),
      rssAtRestBytes: r.rssAtRestBytes,
      processMaxRssBytes: o.processMaxRssBytes,
      levels: r.kbops[0]?.levels ?? {},
      nodeReadMs: { median: median(reads), p90: percentile(reads, 90), max: Math.max(...reads) },
      cpuPerRoundMs: perRound(r.kbopsCpu),
    },
    baseline: {
      medianMs: median(bMs),
      p90Ms: percentile(bMs, 90),
      roundsMs: bMs,
      incompleteRounds: bBad.length,
      problems: bBad[0]?.problems.slice(0, 20) ?? [],
      processes: r.baseline[0]?.processes ?? 0,
      psqlNodeMs: bMean((x) => x.psqlNodeMs),
      sshDfMs: bMean((x) => x.sshDfMs),
      psqlPoolMs: bMean((x) => x.psqlPoolMs),
      cpuPerRoundMs: perRound(r.baselineCpu),
    },
  };
}

function cpuRow(label: string, wallMs: number, d: CpuDelta, cores: number): string[] {
  const named = Object.values(d.trees).reduce((a, b) => a + b, 0) + d.selfMs + d.childrenMs;
  const share = (100 * d.machineBusyMs) / Math.max(1, d.machineTotalMs);
  return [
    label,
    ms(wallMs),
    `${ms(d.machineBusyMs)} (${share.toFixed(0)}% of ${cores})`,
    ms(d.selfMs),
    ms(d.childrenMs),
    ms(d.trees.sshd ?? 0),
    ms(d.trees.postgres ?? 0),
    ms(d.trees.pgpool ?? 0),
    ms(d.machineBusyMs - named),
  ];
}

export function summaryText(s: BenchSummary, cores: number): string[] {
  const k = s.kbops;
  const b = s.baseline;
  const incomplete = (side: string, n: number, problems: readonly string[]): string[] =>
    n === 0
      ? []
      : [
          `${side}: ${n} round(s) did not read everything, so no ratio is claimed; the first one's problems:`,
          ...problems.slice(0, 8).map((p) => `  ${p}`),
        ];
  return [
    table([
      ['side', 'median ms', 'p90 ms', 'min ms', 'ratio'],
      [
        `kbops: one report of ${s.clusters} clusters`,
        ms(k.medianMs),
        ms(k.p90Ms),
        ms(Math.min(...k.roundsMs)),
        '',
      ],
      [
        `baseline: ${b.processes} processes in turn`,
        ms(b.medianMs),
        ms(b.p90Ms),
        ms(Math.min(...b.roundsMs)),
        `${s.ratio.toFixed(1)}×`,
      ],
    ]),
    `kbops peak RSS ${mib(k.peakRssBytes)} during the reports (${mib(k.rssAtRestBytes)} at rest before them; ` +
      `process maxRSS ${mib(k.processMaxRssBytes)}); each node's reading: median ${ms(k.nodeReadMs.median)} ms, ` +
      `p90 ${ms(k.nodeReadMs.p90)} ms, max ${ms(k.nodeReadMs.max)} ms`,
    `baseline per round: psql on the nodes ${ms(b.psqlNodeMs)} ms, ssh df ${ms(b.sshDfMs)} ms, ` +
      `psql on the pools ${ms(b.psqlPoolMs)} ms`,
    '',
    'CPU per round, ms (mean over rounds; "other": processes outside the bench and its lab):',
    table([
      ['side', 'wall', 'machine busy', 'this process', 'its children', 'sshd', 'postgres', 'pgpool', 'other'],
      cpuRow('kbops', mean(k.roundsMs), k.cpuPerRoundMs, cores),
      cpuRow('baseline', mean(b.roundsMs), b.cpuPerRoundMs, cores),
    ]),
    `load average ${s.load.before} before the rounds, ${s.load.after} after`,
    ...incomplete('kbops', k.incompleteRounds, k.problems),
    ...incomplete('baseline', b.incompleteRounds, b.problems),
    '',
    s.verdict === 'incomplete'
      ? `ratio ${s.ratio.toFixed(2)}× not claimed: a side's reading was incomplete (target ≥ ${s.target}×)`
      : `ratio ${s.ratio.toFixed(2)}× (target ≥ ${s.target}×): ${s.verdict === 'met' ? 'met' : 'NOT met'}`,
  ];
}
