import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

// Where the CPU of a round went, from /proc (Linux): the whole machine, this process (kbops's
// ssh2/pg clients, or the baseline's loop) and its reaped children (the baseline's psql and ssh),
// and the process trees of the lab's sshds, postmasters and pgpool. A tree's CPU counts its live
// processes' own time plus what each has collected from children that exited, so nothing that
// came and went during the round is missed and nothing is counted twice.

export interface CpuSnapshot {
  readonly machineBusyMs: number;
  readonly machineTotalMs: number;
  readonly selfMs: number;
  readonly childrenMs: number;
  readonly trees: Readonly<Record<string, number>>;
}

export type CpuDelta = CpuSnapshot;

let tickMs: number | undefined;
function msPerTick(): number {
  if (tickMs === undefined) {
    const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    tickMs = 1000 / (Number.isFinite(hz) && hz > 0 ? hz : 100);
  }
  return tickMs;
}

interface Stat {
  readonly ppid: number;
  readonly self: number;
  readonly children: number;
}

/** utime, stime, cutime, cstime of /proc/<pid>/stat (fields 14-17), in ticks. */
function statOf(pid: number | 'self'): Stat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  // The command name may hold spaces and parentheses: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const n = (i: number) => Number(f[i - 3] ?? 0);
  return { ppid: n(4), self: n(14) + n(15), children: n(16) + n(17) };
}

function machine(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { busy: total - idle, total };
}

function treeTicks(roots: readonly number[], stats: ReadonlyMap<number, Stat>): number {
  const kids = new Map<number, number[]>();
  for (const [pid, s] of stats) kids.set(s.ppid, [...(kids.get(s.ppid) ?? []), pid]);
  let ticks = 0;
  const seen = new Set<number>();
  const walk = (pid: number): void => {
    if (seen.has(pid)) return;
    seen.add(pid);
    const s = stats.get(pid);
    if (s) ticks += s.self + s.children;
    for (const k of kids.get(pid) ?? []) walk(k);
  };
  roots.forEach(walk);
  return ticks;
}

/** `roots`: named groups of process ids whose trees are measured (e.g. the lab's three sshds). */
export function cpuSnapshot(roots: Readonly<Record<string, readonly number[]>>): CpuSnapshot {
  const t = msPerTick();
  const stats = new Map<number, Stat>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = statOf(Number(e));
    if (s) stats.set(Number(e), s);
  }
  const self = statOf('self');
  const m = machine();
  return {
    machineBusyMs: m.busy * t,
    machineTotalMs: m.total * t,
    selfMs: (self?.self ?? 0) * t,
    childrenMs: (self?.children ?? 0) * t,
    trees: Object.fromEntries(Object.entries(roots).map(([k, pids]) => [k, treeTicks(pids, stats) * t])),
  };
}

export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): CpuDelta {
  return {
    machineBusyMs: b.machineBusyMs - a.machineBusyMs,
    machineTotalMs: b.machineTotalMs - a.machineTotalMs,
    selfMs: b.selfMs - a.selfMs,
    childrenMs: b.childrenMs - a.childrenMs,
    trees: Object.fromEntries(Object.keys(b.trees).map((k) => [k, (b.trees[k] ?? 0) - (a.trees[k] ?? 0)])),
  };
}

export function cpuSum(ds: readonly CpuDelta[]): CpuDelta {
  const zero: CpuDelta = { machineBusyMs: 0, machineTotalMs: 0, selfMs: 0, childrenMs: 0, trees: {} };
  return ds.reduce(
    (acc, d) => ({
      machineBusyMs: acc.machineBusyMs + d.machineBusyMs,
      machineTotalMs: acc.machineTotalMs + d.machineTotalMs,
      selfMs: acc.selfMs + d.selfMs,
      childrenMs: acc.childrenMs + d.childrenMs,
      trees: Object.fromEntries(
        [...new Set([...Object.keys(acc.trees), ...Object.keys(d.trees)])].map((k) => [
          k,
          (acc.trees[k] ?? 0) + (d.trees[k] ?? 0),
        ]),
      ),
    }),
    zero,
  );
}
