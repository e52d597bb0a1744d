// The command line of `npm run bench`: a failure is a value with a message and a hint, never a throw.

export interface BenchArgs {
  /** Alternating rounds of each side; medians over them. */
  readonly rounds: number;
  /** Inventory clusters, each the lab's three data nodes and its pool. */
  readonly clusters: number;
  /** The ratio baseline/kbops below which the bench exits 1. */
  readonly target: number;
  /** The lab's base octet (pool at 127.0.0.<base>, hosts the next three). */
  readonly base: number;
  /** The lab's directory (its own, so it never touches another lab's). */
  readonly labDir: string;
  /** Leave a lab this bench brought up running at the end. */
  readonly keepLab: boolean;
  /** Where the JSON results go. */
  readonly resultsDir: string;
  /** Clusters read at once by the report; undefined: the product's default, as the bot runs it. */
  readonly concurrency?: number;
}

export type ParsedBenchArgs =
  | { readonly ok: true; readonly help: boolean; readonly args: BenchArgs }
  | { readonly ok: false; readonly message: string; readonly hint: string };

export const BENCH_DEFAULTS: BenchArgs = {
  rounds: 5,
  clusters: 60,
  target: 10,
  base: 190,
  labDir: '/var/tmp/kbops-bench-lab',
  keepLab: false,
  resultsDir: 'bench/results',
};

export const BENCH_USAGE = `usage: npm run bench -- [options]

  --rounds N      alternating rounds of each side, medians over them (default ${BENCH_DEFAULTS.rounds}, 1-50)
  --clusters N    inventory clusters, each the lab's 3 data nodes and its pool (default ${BENCH_DEFAULTS.clusters}, 1-500)
  --target X      exit 1 when baseline/kbops is below X (default ${BENCH_DEFAULTS.target})
  --base N        the lab's base octet (default ${BENCH_DEFAULTS.base}; pool 127.0.0.N, hosts N+1..N+3)
  --lab-dir PATH  the lab's directory (default ${BENCH_DEFAULTS.labDir})
  --keep-lab      leave the lab up at the end (a lab that was up before is always left up)
  --results DIR   where report-<date>.json goes (default ${BENCH_DEFAULTS.resultsDir})
  --concurrency N clusters the report reads at once (default: ReportService's own, as the bot runs it)

Exit codes: 0 target met, 1 below target, 2 a side's reading was incomplete or the setup failed, 64 usage.`;

const fail = (message: string): ParsedBenchArgs => ({ ok: false, message, hint: 'npm run bench -- --help' });

const INT = /^\d+$/;
const NUMBER = /^\d+(\.\d+)?$/;

type Numeric = 'rounds' | 'clusters' | 'base' | 'target' | 'concurrency';
const NUMERIC: Readonly<Record<string, { key: Numeric; min: number; max: number; int: boolean }>> = {
  '--rounds': { key: 'rounds', min: 1, max: 50, int: true },
  '--clusters': { key: 'clusters', min: 1, max: 500, int: true },
  '--base': { key: 'base', min: 2, max: 250, int: true },
  '--target': { key: 'target', min: 0.01, max: 1e6, int: false },
  '--concurrency': { key: 'concurrency', min: 1, max: 500, int: true },
};

export function parseBenchArgs(argv: readonly string[]): ParsedBenchArgs {
  const out: { -readonly [K in keyof BenchArgs]: BenchArgs[K] } = { ...BENCH_DEFAULTS };
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === '--help' || flag === '-h') {
      help = true;
      continue;
    }
    if (flag === '--keep-lab') {
      if (inline !== undefined) return fail('--keep-lab takes no value');
      out.keepLab = true;
      continue;
    }
    const numeric = NUMERIC[flag];
    if (numeric) {
      const v = value();
      if (v === undefined) return fail(`${flag} needs a value`);
      if (!(numeric.int ? INT : NUMBER).test(v))
        return fail(`${flag} must be a ${numeric.int ? 'whole number' : 'number'}, got ${JSON.stringify(v)}`);
      const n = Number(v);
      if (n < numeric.min || n > numeric.max)
        return fail(`${flag} must be between ${numeric.min} and ${numeric.max}, got ${v}`);
      out[numeric.key] = n;
      continue;
    }
    if (flag === '--lab-dir' || flag === '--results') {
      const v = value();
      if (v === undefined || v === '') return fail(`${flag} needs a path`);
      if (flag === '--lab-dir') {
        if (!v.startsWith('/')) return fail(`--lab-dir must be an absolute path, got ${JSON.stringify(v)}`);
        out.labDir = v;
      } else out.resultsDir = v;
      continue;
    }
    return fail(`unknown argument ${JSON.stringify(raw)}`);
  }
  return { ok: true, help, args: out };
}
