import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { runCli } from '../../src/cli/main';
import { createRunStore } from '../../src/store/create-run-store';
import { writeArtifact } from '../support/artifacts';
import { keepStateDirArtifacts } from '../support/store-artifacts';
import { startPrivateLab, type PrivateLab } from './support/private-lab';

// The main job on a real lab: with ~500 MB in TEST and a writer inserting rows during the whole
// base backup, `kbops add-node --yes` adds host 3; afterwards counts match on all three nodes,
// both standbys stream, pgpool lists three nodes up at 0.333333, the slots are there. Then
// `kbops rollback` puts the cluster back exactly as it was.

let pl: PrivateLab;
let stateDir: string;
const password = () => readFileSync(pl.lab.secrets.password, 'utf8').trim();

async function sql<T extends Record<string, unknown>>(
  host: string,
  port: number,
  text: string,
  params: unknown[] = [],
) {
  const c = new Client({ host, port, user: 'SYSTEM', database: 'TEST', password: password() });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

const host = (i: 0 | 1 | 2) => () => pl.lab.hosts[i];
const [p, s, n] = [host(0), host(1), host(2)];
const onNode = <T extends Record<string, unknown>>(h: () => { address: string }, text: string) =>
  sql<T>(h().address, pl.lab.sqlPort, text);

/** What a rollback must restore, read from the hosts themselves. */
async function clusterState() {
  const files = [
    ...pl.lab.hosts
      .slice(0, 2)
      .flatMap((h) =>
        ['pg_hba.conf', 'postgresql.conf', 'postgresql.auto.conf'].map((f) => join(h.dataDir, f)),
      ),
    ...pl.lab.hosts.map((h) => join(h.etcDir, 'HAmodule.conf')),
    pl.lab.pool.conf,
  ];
  const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');
  return {
    files: Object.fromEntries(files.map((f) => [f, sha(f)])),
    slots: await onNode(p, 'select slot_name, slot_type from pg_replication_slots order by slot_name'),
    streaming: await onNode(
      p,
      'select application_name, state from pg_stat_replication order by application_name',
    ),
    newDataDir: existsSync(n().dataDir),
    tables: await onNode(p, "select relname from pg_class where relname like 'kbops_marker%'"),
  };
}

async function cli(args: string[]) {
  const out: string[] = [];
  const env = { ...process.env, KBOPS_INVENTORY: pl.lab.inventoryPath, KBOPS_STATE_DIR: stateDir };
  const code = await runCli(args, env, { out: (t) => out.push(t), err: (t) => out.push(t), tty: false });
  writeArtifact(`cli-${args[0] ?? 'none'}.txt`, out.join('\n'));
  return { code, out: out.join('\n') };
}

beforeAll(async () => {
  pl = await startPrivateLab(50, 'addnode');
  stateDir = mkdtempSync(join(tmpdir(), 'kbops-state-'));
  await onNode(p, 'create table t10 (id bigint, name text)');
  await onNode(p, "insert into t10 select g, repeat('k', 100) from generate_series(1, 3900000) g");
}, 300_000);

afterAll(async () => {
  await pl?.stop();
  if (stateDir) await keepStateDirArtifacts(stateDir, 'add-node');
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

it('keeps a failed run for a decision; `kbops rollback` then restores the cluster exactly', async () => {
  const before = await clusterState();
  // The verdict cannot count a table that does not exist: the run fails at its very end.
  const run = await cli([
    'add-node',
    '--cluster',
    'lab',
    '--host',
    n().address,
    '--count-table',
    'no_such_table',
    '--no-rollback',
    '--yes',
  ]);
  expect(run.out).toMatch(/FAIL {2}rows of no_such_table: .*no_such_table/);
  expect(run.code).toBe(1);
  const runId = /run (R[A-Z0-9]+)/.exec(run.out)![1]!;
  expect((await cli(['runs'])).out).toMatch(new RegExp(`${runId}\\s+failed`));
  expect(await onNode(n, 'select pg_is_in_recovery() as r')).toEqual([{ r: true }]); // left as it was

  const rolled = await cli(['rollback', runId, '--yes']);
  expect(rolled.out).toContain('rolling_back → rolled_back');
  expect(rolled.code).toBe(0);
  expect(await clusterState()).toEqual(before);
}, 300_000);

it('adds host 3 online under a writer and verifies it', async () => {
  const size = await onNode<{ b: string }>(p, "select pg_total_relation_size('t10') as b");
  expect(Number(size[0]!.b)).toBeGreaterThan(500 * 1024 * 1024);

  // A writer on the primary for the whole run.
  let writing = true;
  const writes: number[] = [];
  const writer = (async () => {
    const c = new Client({
      host: p().address,
      port: pl.lab.sqlPort,
      user: 'SYSTEM',
      database: 'TEST',
      password: password(),
    });
    await c.connect();
    let id = 10_000_000;
    while (writing) {
      await c.query(
        "insert into t10 select g, 'writer' from generate_series($1::bigint, $1::bigint + 499) g",
        [id],
      );
      id += 500;
      writes.push(Date.now());
    }
    await c.end();
  })();
  await new Promise((r) => setTimeout(r, 300));

  const run = await cli([
    'add-node',
    '--cluster',
    'lab',
    '--host',
    n().address,
    '--count-table',
    't10',
    '--yes',
  ]);
  writing = false;
  await writer;
  expect(run.out).toContain('run R');
  expect(run.code).toBe(0);
  expect(run.out).toMatch(/\[#+\.*\]\s+\d+%/); // base-backup progress was shown
  expect(run.out).toMatch(/pass {2}rows of t10: (\d+ rows on both|all \d+ rows \(\+\d+ written since\))/);
  expect(run.out).toMatch(/pass {2}srv51's pool lists srv53 up as a standby/);

  // The writer really wrote during the whole base backup.
  const runId = /run (R[A-Z0-9]+)/.exec(run.out)![1]!;
  const store = await createRunStore({ dataDir: stateDir });
  const events = await store.events({ runId });
  await store.close();
  const at = (type: string) =>
    Date.parse(
      events.find((e) => e.event.type === type && (e.event as { stepId?: string }).stepId === 'basebackup')!
        .at,
    );
  const [started, finished] = [at('step-started'), at('step-finished')];
  expect(writes.filter((t) => t < started).length).toBeGreaterThan(0);
  expect(writes.filter((t) => t > started && t < finished).length).toBeGreaterThan(0);
  expect(writes.filter((t) => t > finished).length).toBeGreaterThan(0);

  // After the writer stops: every node has every row.
  const target = (await onNode<{ l: string }>(p, 'select pg_current_wal_lsn()::text as l'))[0]!.l;
  for (const h of [s, n]) {
    for (let i = 0; i < 300; i++) {
      const r = await sql<{ ok: boolean }>(
        h().address,
        pl.lab.sqlPort,
        'select pg_last_wal_replay_lsn() >= $1::pg_lsn as ok',
        [target],
      );
      if (r[0]!.ok) break;
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  const counts = await Promise.all(
    [p, s, n].map(async (h) => (await onNode<{ c: string }>(h, 'select count(*) as c from t10'))[0]!.c),
  );
  expect(Number(counts[0])).toBe(3_900_000 + writes.length * 500);
  expect(new Set(counts).size).toBe(1);

  expect(
    await onNode(p, 'select application_name, state from pg_stat_replication order by application_name'),
  ).toEqual([
    { application_name: 'srv52', state: 'streaming' },
    { application_name: 'srv53', state: 'streaming' },
  ]);
  const pool = await sql<Record<string, string>>(pl.lab.poolAddress, pl.lab.pool.sqlPort, 'show pool_nodes');
  expect(pool.map((r) => [r.hostname, r.status, r.role, r.lb_weight])).toEqual([
    ['127.0.0.51', 'up', 'primary', '0.333333'],
    ['127.0.0.52', 'up', 'standby', '0.333333'],
    ['127.0.0.53', 'up', 'standby', '0.333333'],
  ]);
  expect(await onNode(p, 'select slot_name, active from pg_replication_slots order by slot_name')).toEqual([
    { slot_name: 'slot_srv51', active: false },
    { slot_name: 'slot_srv52', active: true },
    { slot_name: 'slot_srv53', active: true },
  ]);
  expect(await onNode(n, 'select pg_is_in_recovery() as r')).toEqual([{ r: true }]);
}, 600_000);
