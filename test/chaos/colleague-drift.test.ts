import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sealPlan, type SealedPlan, type Step } from '../../src/core/plan';
import type { JournalEvent } from '../../src/core/run';
import { runPlanUnattended } from '../integration/support/unattended';
import type { RunStore } from '../../src/ports/run-store';
import { statusLine } from '../../src/render/run-progress';
import { prepareAddNodeRun } from '../integration/support/prepare-add-node-run';
import { createRunStore } from '../../src/store/create-run-store';
import { labSql, lookupUser } from '../../lab/lab-state';
import { comparable, snapshotLab } from '../integration/support/cluster-snapshot';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';

// Issue 8's first scenario, on a private lab (base 170: primary srv171, standby srv172, new host
// srv173): after the plan was made, a colleague makes the new host's data directory and puts a
// file of theirs in it, or creates a replication slot with the run's slot name. The run must end
// before any change, say what changed, and leave the colleague's things exactly as they were.
// Then the race: the directory appears after the re-check, just before kbops's mkdir.

let pl: PrivateLab;
let store: RunStore;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'kbops-colleague-'));
  pl = await startPrivateLab(170, 'colleague');
  store = await createRunStore({ dataDir: join(work, 'store') });
}, 180_000);

afterAll(async () => {
  await store?.close();
  await pl?.stop();
  if (work) await rm(work, { recursive: true, force: true });
}, 120_000);

const newHost = () => pl.lab.hosts[2];
const primary = () => pl.lab.hosts[0];

async function plan(): Promise<SealedPlan> {
  const r = await prepareAddNodeRun(
    { cluster: 'lab', host: newHost().address },
    { inventory: pl.inventory, requester: 'colleague-test' },
  );
  if (!r.ok) throw new Error(r.failure.message);
  expect(r.preflight.filter((c) => c.status === 'fail')).toEqual([]);
  return r.plan!;
}

async function run(p: SealedPlan) {
  const r = await runPlanUnattended(p, {
    store,
    inventory: pl.inventory,
    notifier: { notify: () => undefined },
    owner: 'colleague-test',
    rollbackOnFailure: true,
  });
  if (!r.ok) throw new Error(r.failure.message);
  const journal = (await store.events({ runId: r.run.id })).map((e) => e.event);
  return { run: r.run, journal };
}

const startedSteps = (j: JournalEvent[]) => j.flatMap((e) => (e.type === 'step-started' ? [e.stepId] : []));
const reasons = (j: JournalEvent[]) => j.flatMap((e) => (e.type === 'state' && e.reason ? [e.reason] : []));

const sql = (text: string, params: unknown[] = []) =>
  labSql(pl.lab, { host: primary().address, port: pl.lab.sqlPort }, text, params);

/** The colleague's directory and file, owned by the lab's OS user as a colleague's would be. */
async function colleaguesDir(): Promise<string> {
  const file = join(newHost().dataDir, 'colleague-notes.txt');
  await mkdir(newHost().dataDir, { recursive: true, mode: 0o700 });
  await writeFile(file, 'mine, do not delete\n');
  const user = await lookupUser(pl.lab.osUser);
  if (!user) throw new Error(`no OS user ${pl.lab.osUser}`);
  const { uid, gid } = user;
  await chown(newHost().dataDir, uid, gid);
  await chown(file, uid, gid);
  return file;
}

describe('a colleague changes the cluster after the plan was made', () => {
  it('their data directory and file survive; the run ends failed before any change, saying why', async () => {
    const p = await plan();
    const before = comparable(await snapshotLab(pl.lab));
    const file = await colleaguesDir();
    const { run: r, journal } = await run(p);
    expect(r.state).toBe('failed');
    expect(startedSteps(journal)).toEqual([]);
    expect(reasons(journal).join('\n')).toContain(
      `the cluster changed since this plan was made: srv173's data directory ${newHost().dataDir} does not exist`,
    );
    expect(readFileSync(file, 'utf8')).toBe('mine, do not delete\n');
    expect(statusLine(r, new Date())).toContain('before changing anything');
    expect(statusLine(r, new Date())).not.toContain('undone');
    expect(await store.getLock('lab')).toBeUndefined(); // free for a new plan
    await rm(newHost().dataDir, { recursive: true, force: true });
    expect(comparable(await snapshotLab(pl.lab))).toEqual(before);
  }, 120_000);

  it("their replication slot with the run's name survives; the run ends failed before any change", async () => {
    const p = await plan();
    await sql('select pg_create_physical_replication_slot($1)', ['slot_srv173']);
    try {
      const { run: r, journal } = await run(p);
      expect(r.state).toBe('failed');
      expect(startedSteps(journal)).toEqual([]);
      expect(reasons(journal).join('\n')).toContain('no replication slot slot_srv173 (on srv171');
      expect(
        await sql('select slot_name, active from pg_replication_slots where slot_name = $1', ['slot_srv173']),
      ).toEqual([{ slot_name: 'slot_srv173', active: false }]);
    } finally {
      await sql('select pg_drop_replication_slot($1)', ['slot_srv173']);
    }
  }, 120_000);

  it('a directory that appears after the re-check is refused, and the rollback leaves it alone', async () => {
    const p = await plan();
    const before = comparable(await snapshotLab(pl.lab));
    // The race, made certain: a read-only step right before kbops's mkdir makes the colleague's
    // directory (as the lab's OS user, over the run's own SSH).
    const at = p.steps.findIndex((s) => s.id === 'datadir');
    const race: Step = {
      id: 'colleague-race',
      title: 'a colleague makes the directory',
      target: 'srv173',
      action: {
        kind: 'ssh',
        argv: [
          'sh',
          '-c',
          'mkdir -p "$1" && echo theirs > "$1/colleague-notes.txt"',
          'sh',
          newHost().dataDir,
        ],
      },
      timeoutMs: 10_000,
      mutates: false,
      undo: null,
    };
    const { hash: _h, ...rest } = p;
    const raced = sealPlan({ ...rest, steps: [...p.steps.slice(0, at), race, ...p.steps.slice(at)] });
    const { run: r, journal } = await run(raced);
    expect(r.state).toBe('rolled_back');
    const datadir = journal.find(
      (e) => e.type === 'step-finished' && e.stepId === 'datadir' && e.phase === 'do',
    );
    expect(datadir).toMatchObject({ outcome: { ok: false, unchanged: true, failure: { code: 'refused' } } });
    // Its own undo never ran; the steps before it were undone.
    const undone = journal.flatMap((e) =>
      e.type === 'step-started' && e.phase === 'undo' ? [e.stepId] : [],
    );
    expect(undone).not.toContain('datadir');
    // Newest first; the reloads change something too, with nothing of their own to undo.
    expect(undone).toEqual(['slot-srv171', 'reload-srv172', 'hba-srv172', 'reload-srv171', 'hba-srv171']);
    expect(readFileSync(join(newHost().dataDir, 'colleague-notes.txt'), 'utf8')).toBe('theirs\n');
    await rm(newHost().dataDir, { recursive: true, force: true });
    expect(existsSync(newHost().dataDir)).toBe(false);
    expect(comparable(await snapshotLab(pl.lab))).toEqual(before);
  }, 180_000);
});
