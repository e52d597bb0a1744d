import { spawn, type ChildProcess } from 'node:child_process';
import { buildSync } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StoredEvent } from '../../src/core/run';
import { createRunStore } from '../../src/store/create-run-store';

// kill -9 of a process writing the embedded store, at random moments (while it starts, opens,
// migrates, appends), again and again on the same state dir. Every restart must open the store
// (the killed holder's lock must not block it) and find every acknowledged journal event; at the
// end the journal is every event in order with no gap, ending at the last acknowledged one (plus at
// most the one that was committed as the kill landed, before its acknowledgement was printed).

const ROOT = join(__dirname, '../..');
const ITERATIONS = 20;

let dir: string;
let work: string;
let childScript: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kbops-kill-'));
  dir = join(work, 'state');
  // The child bundled once: tsx would compile it again on every start, seconds per kill. esbuild is
  // tsx's own bundler; node_modules are left external and found through NODE_PATH.
  childScript = join(work, 'child.cjs');
  buildSync({
    entryPoints: [join(__dirname, 'embedded-store-kill-child.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    outfile: childScript,
    logLevel: 'warning',
  });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Child {
  readonly proc: ChildProcess;
  /** Resolves with the number of events the child found when its store opened. */
  readonly ready: Promise<number>;
  /** Resolves once the child has acknowledged `n` events since it started. */
  acks(n: number): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: () => string;
}

function startChild(acked: Map<number, number>): Child {
  const proc = spawn(process.execPath, [childScript, dir], {
    cwd: ROOT,
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  let buffered = '';
  let count = 0;
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const ready = new Promise<number>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const [what, a, b] = line.split(' ');
        if (what === 'ready') resolve(Number(a));
        if (what === 'ack') {
          acked.set(Number(a), Number(b));
          count++;
          for (const w of waiters.filter((x) => x.n <= count)) w.resolve();
        }
      }
    });
    void exited.then(() => reject(new Error('the child ended before its store opened')));
  });
  ready.catch(() => undefined);
  const acks = (n: number) =>
    count >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve }));
  return { proc, ready, acks, exited, stderr: () => err };
}

const random = (max: number) => Math.floor(Math.random() * max);

/** `p`, or a rejection after `ms` (the timer cleared either way: nothing left to hold jest open). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(`${ITERATIONS} kill -9s at random moments leave a store that opens with every acknowledged event`, async () => {
  const acked = new Map<number, number>(); // seq → journal id, as the children printed them
  const started = Date.now();
  const openTimes: number[] = [];
  let killedStarting = 0;
  let killedAppending = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = Date.now();
    const child = startChild(acked);
    const maxAckedBefore = acked.size === 0 ? -1 : Math.max(...acked.keys());
    try {
      // A quarter of the kills land while the child starts (PGlite, the first initdb, the lock,
      // migrations), the rest while it appends: after a random number of acknowledgements, so
      // mid-way through the next append, its commit or its acknowledgement.
      if (i % 4 === 0) {
        const typical = openTimes.length ? Math.min(...openTimes) : 2_000; // the fastest start seen
        const outcome = await Promise.race([sleep(random(typical)).then(() => 'timer'), child.ready]);
        if (outcome === 'timer') killedStarting++;
        else killedAppending++;
      } else {
        const found = await within(child.ready, 60_000, 'the store did not open within 60 s');
        openTimes.push(Date.now() - t0);
        // Every acknowledged event is there when the store opens again (the seq counts them).
        expect(found).toBeGreaterThan(maxAckedBefore);
        await within(child.acks(1 + random(40)), 60_000, 'no acknowledgements within 60 s');
        await sleep(random(3));
        killedAppending++;
      }
    } catch (err) {
      throw new Error(`iteration ${i}: ${String(err)}\n${child.stderr()}`);
    } finally {
      child.proc.kill('SIGKILL');
    }
    const end = await child.exited;
    if (end.signal !== 'SIGKILL')
      throw new Error(`iteration ${i}: the child ended by itself\n${child.stderr()}`);
    if (process.env.KBOPS_CHAOS_VERBOSE)
      process.stderr.write(`kill ${i} after ${Date.now() - t0} ms, ${acked.size} acknowledged so far\n`);
  }
  const killLoopMs = Date.now() - started;

  const store = await createRunStore({ dataDir: dir });
  const events: StoredEvent[] = [];
  for (let after = 0; ;) {
    const page = await store.events({ cluster: 'chaos', afterId: after, limit: 1000 });
    if (page.length === 0) break;
    events.push(...page);
    after = page.at(-1)!.id;
  }
  await store.close();

  const seqs = events.map((e) => (e.event as unknown as { data: { seq: number } }).data.seq);
  expect(seqs).toEqual(seqs.map((_, i) => i)); // in order, no gap, no repeat
  for (const [seq, id] of acked) expect(events[seq]?.id).toBe(id);
  const lastAcked = Math.max(...acked.keys());
  expect(seqs.length - 1).toBeGreaterThanOrEqual(lastAcked);
  expect(seqs.length - 1).toBeLessThanOrEqual(lastAcked + 1);
  expect(killedAppending).toBeGreaterThanOrEqual((ITERATIONS * 3) / 4);
  expect(acked.size).toBeGreaterThanOrEqual((ITERATIONS * 3) / 4); // at least one per appending kill
  process.stdout.write(
    `embedded-store-kill: ${ITERATIONS} kills (${killedStarting} while starting, ${killedAppending} while appending), ` +
      `${acked.size} events acknowledged, ${events.length} in the journal, kill loop ${killLoopMs} ms, ` +
      `open ${openTimes.length ? Math.round(openTimes.reduce((a, b) => a + b) / openTimes.length) : '-'} ms on average\n`,
  );
}, 600_000);
