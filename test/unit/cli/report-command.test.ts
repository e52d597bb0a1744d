import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../src/cli/main';
import { parseReportArgs } from '../../../src/cli/report-command';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { sealPlan } from '../../../src/core/plan';
import type { Clock } from '../../../src/ports/clock';
import type { ReportJson } from '../../../src/render/report-json';
import { RUNBOOKS } from '../../../src/runbooks';
import { createRunStore } from '../../../src/store/create-run-store';
import { testPlan } from '../../integration/support/test-plan';
import { ReportConnector } from '../cluster/report-connector';
import { ARCHIVER, df, node, poolRow } from '../cluster/report-hosts';
import { fixtureRows } from '../probes/fixture';

// `kbops report` end to end through runCli: the real configuration loader, state store and report
// service, with fake hosts behind the connector seam. The exit code is the level (0/1/2), 3 when it
// could not report at all, 64 for what was typed wrong; --json prints one document and nothing else.

const NOW = new Date('2026-11-21T00:15:02.000Z');
const PASSWORD = 'pw-report-4f9c2a';
const clock: Clock = { now: () => NOW, sleep: async () => undefined };

const cluster = (name: string, octet: number) => `
  ${name}:
    dialect: postgresql
    clusterPath: /srv/hosts/{name}/cluster/ESHA
    ssh: { user: kingbase, privateKeyFile: {{dir}}/key, knownHostsFile: {{dir}}/known_hosts }
    db: { user: SYSTEM, database: TEST, password: { env: PW } }
    nodes:
      - { name: srv11, host: 127.0.${octet}.11, sqlPort: 54321 }
      - { name: srv12, host: 127.0.${octet}.12, sqlPort: 54321 }
    manager:
      kind: pgpool
      nodes: [{ node: srv11, host: 127.0.${octet}.10, configFile: /etc/pgpool.conf }]`;

let dir: string;
let template: string;
let stateDirs = 0;
const NO_STORE = () => join(dir, 'no-store');
/** An empty state store of its own: a copy of one made once (making one takes seconds). */
function freshStateDir(): string {
  const d = join(dir, `state-${++stateDirs}`);
  cpSync(template, d, { recursive: true });
  return d;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kbops-cli-report-'));
  template = join(dir, 'state-template');
  await (await createRunStore({ dataDir: template })).close();
  writeFileSync(join(dir, 'key'), 'k', { mode: 0o600 });
  writeFileSync(join(dir, 'known_hosts'), '');
  const yaml = `clusters:${cluster('lab', 0)}${cluster('other', 1)}\n`.replaceAll('{{dir}}', dir);
  writeFileSync(join(dir, 'kbops.yaml'), yaml);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** srv11 primary streaming to srv12, the pool agreeing, one active slot, archiving fine. */
function healthy(cluster: ClusterConfig): ReportConnector {
  const c = new ReportConnector();
  const primary = node('primary', {
    replication: fixtureRows('pg15/replication.txt').map((r) => ({ ...r, application_name: 'srv12' })),
  });
  c.answers.set('srv11', (sql) => {
    if (sql.includes('replication_slots'))
      return [
        {
          slot_name: 'slot_srv12',
          slot_type: 'physical',
          active: 't',
          restart_lsn: '0/40001C0',
          retained_bytes: '0',
        },
      ];
    if (sql.includes('stat_archiver'))
      return [{ ...ARCHIVER, failed_count: '0', last_failed_wal: null, last_failed_epoch: null }];
    return primary(sql);
  });
  c.answers.set('srv12', node('standby'));
  const [a, b] = cluster.nodes;
  c.answers.set('pool-srv11', () => [poolRow(0, a!.host, 'primary'), poolRow(1, b!.host, 'standby')]);
  c.shellAnswers.set('srv11', () => df(1000, 400));
  c.shellAnswers.set('srv12', () => df(2000, 1500));
  return c;
}

interface Outcome {
  code: number;
  out: string[];
  err: string[];
  /** The clusters a connector was made for, in order. */
  read: string[];
}

async function report(
  argv: string[],
  o: { env?: Record<string, string>; change?: (c: ReportConnector, cluster: ClusterConfig) => void } = {},
): Promise<Outcome> {
  const out: string[] = [];
  const err: string[] = [];
  const read: string[] = [];
  const env = {
    KBOPS_INVENTORY: join(dir, 'kbops.yaml'),
    // Tests that get as far as the store give theirs; the others must never open one.
    KBOPS_STATE_DIR: NO_STORE(),
    PW: PASSWORD,
    ...o.env,
  };
  const code = await runCli(
    ['report', ...argv],
    env,
    { out: (t) => out.push(t), err: (t) => err.push(t), tty: false },
    {
      runbooks: RUNBOOKS,
      report: {
        clock,
        connectorFor: (c) => {
          read.push(c.name);
          const connector = healthy(c);
          o.change?.(connector, c);
          return connector;
        },
      },
    },
  );
  return { code, out, err, read };
}

/** stdout as the one JSON document it must be. */
function document(r: Outcome): ReportJson {
  expect(r.out).toHaveLength(1);
  return JSON.parse(r.out[0]!) as ReportJson;
}

describe('kbops report', () => {
  it('--json: one document on stdout, nothing else anywhere; green exits 0 and keeps the lag history', async () => {
    const stateDir = freshStateDir();
    const r = await report(['--json'], { env: { KBOPS_STATE_DIR: stateDir } });
    expect([r.code, r.err]).toEqual([0, []]);
    expect(r.read).toEqual(['lab', 'other']);
    const doc = document(r);
    expect(doc).toMatchObject({
      kbops_report: 1,
      generatedAt: NOW.toISOString(),
      level: 'green',
      exitCode: 0,
    });
    expect(doc.clusters.map((c) => [c.name, c.level, c.worst, c.findings])).toEqual([
      ['lab', 'green', null, []],
      ['other', 'green', null, []],
    ]);
    expect(doc.clusters[0]?.nodes.map((n) => [n.name, n.role, n.lagBytes, n.diskFreeBytes])).toEqual([
      ['srv11', 'primary', null, 400 * 1024],
      ['srv12', 'standby', 0x300 - 0x1c0, 1500 * 1024],
    ]);
    expect(r.out[0]).not.toContain(PASSWORD);
    const store = await createRunStore({ dataDir: stateDir });
    try {
      const history = await store.reports.lagHistory('lab', new Date(NOW.getTime() - 3600_000));
      expect(history).toEqual([
        { cluster: 'lab', standby: 'srv12', at: NOW.toISOString(), lagBytes: 0x300 - 0x1c0, lagSeconds: 0 },
      ]);
    } finally {
      await store.close();
    }
  });

  it('exits 1 on amber, with the last runs read from the state store', async () => {
    const stateDir = freshStateDir();
    const store = await createRunStore({ dataDir: stateDir });
    try {
      const plan = sealPlan({ ...testPlan('lab', 'UALICE'), runbook: { id: 'add-node', version: 1 } });
      const created = await store.createRun({ id: 'RFAILED01', plan, expiresAt: null });
      if (!created.ok) throw new Error('locked');
      await store.applyEvent('RFAILED01', 'approve', { actor: 'UBOB' });
      await store.claimNext('w1', 60_000);
      await store.applyEvent('RFAILED01', 'fail', { actor: 'w1', owner: 'w1' });
    } finally {
      await store.close();
    }
    const r = await report(['--json', '--cluster', 'lab'], { env: { KBOPS_STATE_DIR: stateDir } });
    const doc = document(r);
    expect([r.code, doc.level, doc.exitCode]).toEqual([1, 'amber', 1]);
    expect(r.read).toEqual(['lab']);
    const [lab] = doc.clusters;
    expect(lab?.lastRuns).toEqual([
      { runbook: 'add-node', runId: 'RFAILED01', state: 'failed', endedAt: expect.any(String), measures: [] },
    ]);
    expect(lab?.worst).toMatchObject({ level: 'amber', code: 'last-run-failed' });
  });

  it('exits 2 on red: a line per cluster with its worst finding, then the findings; no secret from an error', async () => {
    // srv12 refuses with an error that quotes the password; the pool does not answer.
    const change = (c: ReportConnector, cl: ClusterConfig) => {
      if (cl.name !== 'lab') return;
      c.answers.set('srv12', () => {
        throw new Error(`password authentication failed (password ${PASSWORD})`);
      });
      c.answers.delete('pool-srv11');
    };
    const text = await report([], { change, env: { KBOPS_STATE_DIR: freshStateDir() } });
    expect([text.code, text.err]).toEqual([2, []]);
    expect(text.out[0]).toBe(`RED: 2 clusters: 1 red, 1 green · ${NOW.toISOString()}`);
    expect(text.out[1]).toMatch(
      /^red {4}lab {4}srv12 \(127\.0\.0\.12:54321\) does not answer: .* \(\+1 more\)$/,
    );
    expect(text.out[2]).toBe('green  other  2 nodes, 1 streaming, largest lag 320 B');
    expect(text.out.slice(3, 5)).toEqual(['', 'lab is red:']);
    expect(text.out.slice(5)).toEqual([
      expect.stringMatching(/^ {2}red {4}srv12 \(127\.0\.0\.12:54321\) does not answer: /),
      expect.stringMatching(/^ {2}red {4}the pool on srv11 cannot be read: .*ECONNREFUSED/),
    ]);
    const json = await report(['--json'], { change, env: { KBOPS_STATE_DIR: freshStateDir() } });
    expect([json.code, json.err, document(json).level]).toEqual([2, [], 'red']);
    for (const r of [text, json]) {
      expect([...r.out, ...r.err].join('\n')).not.toContain(PASSWORD);
      expect(r.out.join('\n')).toContain('[REDACTED]');
    }
  });

  it('refuses an unknown cluster with 64, naming the ones there are, before reading anything', async () => {
    const r = await report(['--json', '--cluster', 'lab', '--cluster', 'nope']);
    expect([r.code, r.out, r.read, existsSync(NO_STORE())]).toEqual([64, [], [], false]);
    expect(r.err.join('\n')).toContain('the inventory has no cluster "nope" (its clusters: lab, other)');
  });

  it('refuses what it does not know with 64, whatever the configuration', async () => {
    for (const argv of [['--verbose'], ['--cluster'], ['--cluster', '--json']]) {
      const r = await report(argv, { env: { KBOPS_INVENTORY: join(dir, 'missing.yaml') } });
      expect([r.code, r.out, r.read, existsSync(NO_STORE())]).toEqual([64, [], [], false]);
      expect(r.err.join('\n')).toContain('usage: kbops report');
    }
  });

  it('exits 3 (UNKNOWN), not 2, when the configuration is broken: 2 would read as a red cluster', async () => {
    const env = { KBOPS_INVENTORY: join(dir, 'missing.yaml') };
    const json = await report(['--json'], { env });
    expect(json.code).toBe(3);
    expect(document(json)).toMatchObject({ kbops_report: 1, level: null, exitCode: 3, clusters: [] });
    expect(json.err.join('\n')).toContain('configuration has 1 problem(s)');
    const text = await report([], { env });
    expect([text.code, text.out]).toEqual([
      3,
      ['UNKNOWN: kbops could not report: configuration has 1 problem(s)'],
    ]);
    expect(existsSync(NO_STORE())).toBe(false);
  });

  it('exits 3 when the state store cannot be opened (held by a running bot)', async () => {
    const stateDir = freshStateDir();
    const held = await createRunStore({ dataDir: stateDir });
    try {
      const r = await report([], { env: { KBOPS_STATE_DIR: stateDir } });
      expect(r.code).toBe(3);
      expect(r.out).toHaveLength(1);
      expect(r.out[0]).toMatch(
        /^UNKNOWN: kbops could not report: the state store cannot be opened: the state directory .* is in use/,
      );
      expect(r.read).toEqual([]);
    } finally {
      await held.close();
    }
  });
});

describe('parseReportArgs', () => {
  it('takes --cluster as many times as wanted (once each), --cluster=NAME, and --json', () => {
    expect(parseReportArgs(['--cluster', 'b', '--json', '--cluster=a', '--cluster', 'b'])).toEqual({
      ok: true,
      args: { clusters: ['b', 'a'], json: true },
    });
    expect(parseReportArgs([])).toEqual({ ok: true, args: { clusters: [], json: false } });
    expect(parseReportArgs(['--cluster='])).toEqual({ ok: false, message: '--cluster needs a cluster name' });
  });
});
