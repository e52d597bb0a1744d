import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { PG_BIN } from '../lab/lab-packages';
import { clusterConnectorFor } from '../src/app/compose-runs';
import { ReportService } from '../src/app/report-service';
import { systemClock } from '../src/adapters/system-clock';
import { RUNBOOKS } from '../src/runbooks';
import { createRunStore } from '../src/store/create-run-store';
import { BENCH_USAGE, parseBenchArgs, type BenchArgs } from './bench-args';
import { benchInventory } from './bench-inventory';
import { ensureBenchLab, labRoots, type BenchLab } from './bench-lab';
import { ms } from './bench-stats';
import { summarize, summaryText, type Rounds } from './bench-summary';
import { cpuDelta, cpuSnapshot, type CpuDelta } from './cpu-profile';
import { kbopsRound, type KbopsRound } from './kbops-round';
import { PsqlBaseline, type BaselineRound } from './psql-baseline';

// `npm run bench`: one health report by kbops over N clusters × 3 nodes against what a DBA's
// script does (psql and ssh df per node, one after the other), measured in one run, alternating
// which side goes first, medians over the rounds. Exit 0 when baseline/kbops reaches the target.

const REPO = resolve(__dirname, '..');
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const loadAverage = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const EXIT = { met: 0, 'below target': 1, incomplete: 2 } as const;

async function measure(a: BenchArgs, bl: BenchLab): Promise<number> {
  const lab = bl.lab;
  const inv = await benchInventory(lab, a.clusters);
  const nodes = inv.clusters.reduce((s, c) => s + c.nodes.length, 0);
  const work = await mkdtemp(join(tmpdir(), 'kbops-bench-'));
  // The bot's own kind of state store (embedded), so the report's run and lag-history work is counted.
  const store = await createRunStore({ dataDir: join(work, 'store') });
  try {
    const service = new ReportService({
      inventory: inv.inventory,
      runStore: store,
      reports: store.reports,
      connectorFor: clusterConnectorFor(process.env),
      clock: systemClock,
      runbookIds: RUNBOOKS.map((r) => r.id),
      ...(a.concurrency !== undefined && { concurrency: a.concurrency }),
    });
    const baseline = new PsqlBaseline({
      psql: join(PG_BIN, 'psql'),
      ssh: 'ssh',
      pgpass: lab.secrets.pgpass,
      workDir: work,
    });
    const expected = { nodes: lab.hosts.length, primary: lab.hosts[0].name };
    const roots = await labRoots(lab);
    say(
      `${inv.clusters.length} clusters × ${expected.nodes} nodes (${nodes} nodes) + ${inv.clusters.length} pools; ` +
        `report concurrency ${a.concurrency ?? "ReportService's default"}`,
    );
    // Untimed: module loading and JIT on one side, binaries and page cache on the other.
    say('warming up …');
    await kbopsRound(service, inv.clusters.slice(0, 4), expected);
    await baseline.round(inv.clusters.slice(0, 1));

    const rssAtRestBytes = process.memoryUsage.rss();
    const before = loadAverage();
    const k: KbopsRound[] = [];
    const kCpu: CpuDelta[] = [];
    const b: BaselineRound[] = [];
    const bCpu: CpuDelta[] = [];
    const timed = async <R>(work: () => Promise<R>, into: R[], cpu: CpuDelta[]): Promise<void> => {
      const start = cpuSnapshot(roots);
      into.push(await work());
      cpu.push(cpuDelta(start, cpuSnapshot(roots)));
    };
    const runK = () => timed(() => kbopsRound(service, inv.clusters, expected), k, kCpu);
    const runB = () => timed(() => baseline.round(inv.clusters), b, bCpu);
    for (let i = 0; i < a.rounds; i++) {
      // Alternate which side goes first, so drift on the machine weighs on both alike.
      for (const side of i % 2 === 0 ? [runK, runB] : [runB, runK]) await side();
      const kr = k.at(-1)!;
      const br = b.at(-1)!;
      const flag = (problems: readonly string[]) =>
        problems.length > 0 ? ` (INCOMPLETE: ${problems.length} problems)` : '';
      say(
        `round ${i + 1}/${a.rounds}: kbops ${ms(kr.ms)} ms${flag(kr.problems)}, baseline ${ms(br.ms)} ms${flag(br.problems)}, ` +
          `ratio ${(br.ms / kr.ms).toFixed(1)}×`,
      );
    }
    const rounds: Rounds = {
      kbops: k,
      kbopsCpu: kCpu,
      baseline: b,
      baselineCpu: bCpu,
      rssAtRestBytes,
      load: { before, after: loadAverage() },
    };
    const summary = summarize(rounds, {
      clusters: inv.clusters.length,
      nodes,
      target: a.target,
      processMaxRssBytes: process.resourceUsage().maxRSS * 1024,
    });
    say('');
    summaryText(summary, cpus().length).forEach(say);

    const at = new Date();
    const dir = isAbsolute(a.resultsDir) ? a.resultsDir : join(REPO, a.resultsDir);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `report-${at.toISOString().slice(0, 19).replace(/:/g, '-')}.json`);
    const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? null, node: process.version };
    const result = {
      at: at.toISOString(),
      machine,
      args: a,
      lab: { base: lab.base, reused: bl.wasUp },
      ...summary,
    };
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    say(`results: ${file}`);
    return EXIT[summary.verdict];
  } finally {
    await store.close();
    await rm(work, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const parsed = parseBenchArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`bench: ${parsed.message}\n  hint: ${parsed.hint}\n`);
    return 64;
  }
  if (parsed.help) {
    say(BENCH_USAGE);
    return 0;
  }
  const a = parsed.args;
  let bl: BenchLab;
  try {
    bl = await ensureBenchLab(a, say);
  } catch (err) {
    process.stderr.write(
      `bench: the lab could not be brought up: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 2;
  }
  const interrupted = (): void => {
    say('\ninterrupted');
    void bl.teardown(say).finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    return await measure(a, bl);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  } finally {
    await bl.teardown(say);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(2);
    },
  );
}
