import { existsSync } from 'node:fs';
import { labDown } from '../../lab/lab-down';
import { labLayout } from '../../lab/lab-layout';
import { startPrivateLab } from '../integration/support/private-lab';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../integration/support/throwaway-postgres';
import { runKillCase, type CaseRow, type KillCase } from './support/kill-case';
import { freshPlan, resetLab, type Lane } from './support/kill-lane';
import { labBaseHolder, lockLabBase, tryLockLabBase, type Release } from './support/lab-base-lock';
import { killAllWorkers } from './support/worker-process';

// Issue 8: SIGKILL of the bot at every step boundary of add-node, and in the middle of the base
// backup. For each step k of the plan (read from the plan itself), a worker process executes the
// real add-node on a private lab and is SIGKILLed the moment step k is journaled as started; a
// fresh worker process then finds the run interrupted, and the operator resumes it (even k: it
// must succeed) or rolls it back (odd k: the lab must be exactly as before). After each: no orphan
// slot, no pg_basebackup/pcp_* left, and the lab reset for the next case. Every case runs even
// when one fails (within a time budget); a table of all cases is printed as they finish.
//
// Two lanes work through the cases side by side: lab base 140, and base 160 when no other chaos
// file holds it (support/lab-base-lock). Each case has a state database of its own.

const LANE_BASES = [140, 160] as const;
const NAME = 'chaos-kill';
/** The whole run of cases; a lane starts no new case past it, so nothing outlives the test. */
const BUDGET_MS = Number(process.env.KBOPS_CHAOS_BUDGET_MS ?? 20 * 60_000);
const CASE_MAX_MS = 5 * 60_000;

const lanes: Lane[] = [];
let pg: ThrowawayPostgres | undefined;
let planIds: readonly string[] = [];

async function startLane(base: number, release: Release): Promise<Lane> {
  const lane: Lane = {
    base,
    name: `${NAME}-${base}`,
    owner: `chaos-kill-worker-${base}`,
    pl: undefined,
    planIds: [],
    release,
  };
  lanes.push(lane);
  lane.pl = await startPrivateLab(base, lane.name);
  // Step ids name the lab's hosts (hba-srv141 / hba-srv161): each lane checks against its own.
  lane.planIds = (await freshPlan(lane)).steps.map((s) => s.id);
  if (lanes.length > 1 && lane.planIds.length !== lanes[0]!.planIds.length) {
    throw new Error(
      `lab ${base}'s plan has ${lane.planIds.length} steps, lab ${lanes[0]!.base}'s ${lanes[0]!.planIds.length}`,
    );
  }
  return lane;
}

beforeAll(async () => {
  const first = await startLane(LANE_BASES[0], await lockLabBase(LANE_BASES[0], 60_000));
  // As root, the throwaway server runs as the lab's OS user: start it once a lab is up.
  pg = await startThrowawayPostgres();
  const second = tryLockLabBase(LANE_BASES[1]);
  if (second) await startLane(LANE_BASES[1], second);
  else
    process.stdout.write(
      `lab base ${LANE_BASES[1]} is held by pid ${labBaseHolder(LANE_BASES[1])}: one lane\n`,
    );
  planIds = first.planIds;
}, 300_000);

afterAll(async () => {
  await killAllWorkers();
  for (const lane of lanes) {
    if (lane.pl) await lane.pl.stop().catch(() => undefined);
    const lab = labLayout({ root: `/var/tmp/kbops-lab-${lane.name}-${process.pid}`, base: lane.base });
    if (existsSync(lab.root)) await labDown(lab, () => undefined).catch(() => undefined);
    lane.release();
  }
  await pg?.stop();
}, 180_000);

const rows: CaseRow[] = [];

async function runAndRecord(lane: Lane, c: KillCase): Promise<CaseRow> {
  const t0 = Date.now();
  let row: CaseRow;
  try {
    const r = await runKillCase({ pgUrl: pg!.url }, lane, c);
    row = { name: c.name, then: c.then, lab: lane.base, ...r, seconds: (Date.now() - t0) / 1000 };
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    row = {
      name: c.name,
      then: c.then,
      lab: lane.base,
      outcome: 'FAILED',
      seconds: (Date.now() - t0) / 1000,
      error,
    };
  }
  // A success or a failure leaves the lab changed: start the next case from a fresh one.
  if (c.then === 'resume' || row.error !== undefined) {
    const t1 = Date.now();
    await resetLab(lane);
    row = { ...row, laps: `${row.laps ?? ''}, reset ${((Date.now() - t1) / 1000).toFixed(1)}` };
  }
  rows.push(row);
  process.stdout.write(`${line(row)}\n`);
  return row;
}

function line(r: CaseRow): string {
  return `${String(r.lab)} ${r.name.padEnd(34)} ${r.then.padEnd(9)} ${r.outcome.padEnd(38)} ${r.seconds.toFixed(1).padStart(5)} s  [${r.laps ?? ''}]`;
}

it('derives the cases from the plan: every step of add-node on this lab, the base backup among them', () => {
  expect(planIds.length).toBeGreaterThanOrEqual(20);
  expect(planIds).toContain('basebackup');
  expect(new Set(planIds).size).toBe(planIds.length);
});

it(
  'SIGKILL at the start of every step and mid base backup: resume succeeds, rollback leaves the lab as before',
  async () => {
    const backup = planIds.indexOf('basebackup');
    const mid = (then: 'resume' | 'rollback'): KillCase => ({
      name: `kill mid base backup (#${backup})`,
      killAt: 'progress:basebackup',
      index: backup,
      then,
      ballast: true,
    });
    const cases: KillCase[] = [
      mid('resume'),
      mid('rollback'),
      ...planIds.map((id, k): KillCase => ({
        name: `kill at step ${k} (${id})`,
        killAt: `started:${k}`,
        index: k,
        then: k % 2 === 0 ? 'resume' : 'rollback',
        ballast: false,
      })),
    ];
    // KBOPS_CHAOS_ONLY=3,7,mid: only those cases (when looking into one).
    const only = process.env.KBOPS_CHAOS_ONLY?.split(',');
    const queue = cases.filter(
      (c) => !only || only.includes(c.killAt.startsWith('progress:') ? 'mid' : String(c.index)),
    );
    const total = queue.length;
    const deadline = Date.now() + BUDGET_MS - CASE_MAX_MS;
    process.stdout.write(
      `\nkill-every-step: ${total} cases on labs ${lanes.map((l) => l.base).join(', ')}\n`,
    );
    const done: CaseRow[] = [];
    await Promise.all(
      lanes.map(async (lane) => {
        for (let c = queue.shift(); c; c = queue.shift()) {
          if (Date.now() > deadline) break;
          done.push(await runAndRecord(lane, c));
        }
      }),
    );
    process.stdout.write(
      `\nkill-every-step, ${done.length} of ${total} cases:\n${done.map(line).join('\n')}\n`,
    );
    const failed = done.filter((r) => r.error !== undefined);
    expect(failed.map((r) => `${r.name} (${r.then}, lab ${r.lab}): ${r.error}`)).toEqual([]);
    expect({ casesRun: done.length }).toEqual({ casesRun: total });
  },
  BUDGET_MS + 60_000,
);
