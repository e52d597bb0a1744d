import { parseInventory } from '../../../src/config/load-inventory';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { readReportReading } from '../../../src/cluster/read-report-reading';
import { dialectFor } from '../../../src/dialects/dialect-for';
import { fixtureRows } from '../probes/fixture';
import { exited, type ReportConnector } from './report-connector';
import { ARCHIVER, df, healthy, node, POOL, poolRow } from './report-hosts';

// readReportReading against fake hosts (./report-connector): what status reads plus timelines,
// replay delay, free disk and the archiver; every node, pool and primary read bounded by the
// per-node timeout (a host whose connect never settles costs that, once); unknowns null with why.

const LAB = (dialect: string) => `
clusters:
  lab:
    dialect: ${dialect}
    clusterPath: /srv/hosts/{name}/cluster/ESHA
    ssh: { user: kingbase, port: 2222, privateKeyFile: /k/id, knownHostsFile: /k/known_hosts }
    db: { user: SYSTEM, database: TEST, password: { env: PW } }
    nodes:
      - { name: srv11, host: 127.0.0.11, sqlPort: 54321 }
      - { name: srv12, host: 127.0.0.12, sqlPort: 54321 }
    manager:
      kind: pgpool
      nodes: [{ node: srv11, host: 127.0.0.10, configFile: /etc/pgpool.conf }]
`;

async function clusterOf(dialect: 'postgresql' | 'kingbase-v8r3'): Promise<ClusterConfig> {
  const r = await parseInventory(LAB(dialect), 'lab', { env: {}, checkFiles: false });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.inventory.clusters.lab!;
}

const NOW = new Date('2026-11-21T00:15:02.000Z');
const T = 200; // the per-node timeout of the timing cases
const MARGIN = 180; // below T, so two bounds paid one after the other would fail
const dataDir = (name: string) => `/srv/hosts/${name}/cluster/ESHA/db/data`;

const read = (cluster: ClusterConfig, c: ReportConnector, nodeTimeoutMs = 5000) =>
  readReportReading(cluster, { dialect: dialectFor(cluster.dialect), connector: c, now: NOW, nodeTimeoutMs });

async function timed<T>(p: Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const v = await p;
  return [v, performance.now() - started];
}

describe('readReportReading', () => {
  let pg: ClusterConfig;
  let kb: ClusterConfig;
  beforeAll(async () => {
    [pg, kb] = await Promise.all([clusterOf('postgresql'), clusterOf('kingbase-v8r3')]);
  });

  it('reads roles, timelines, replay delay, free disk, lags sent and replayed, slots, archiver and pool', async () => {
    const c = healthy();
    const r = await read(pg, c);
    expect(r).toMatchObject({
      cluster: 'lab',
      dialect: 'postgresql',
      readAt: NOW.toISOString(),
      primary: 'srv11',
      replicationProblem: null,
      slotsProblem: null,
      archiverProblem: null,
      nodeTimeoutMs: 5000,
    });
    expect(r.nodes).toEqual([
      {
        name: 'srv11',
        host: '127.0.0.11',
        sqlPort: 54321,
        reachable: true,
        role: 'primary',
        walPosition: '0/4000300',
        problem: null,
        inInventory: true,
        timeline: 1,
        replayDelaySeconds: null,
        disk: { path: dataDir('srv11'), totalBytes: 1000 * 1024, freeBytes: 400 * 1024 },
        diskProblem: null,
        readMs: expect.any(Number),
      },
      {
        name: 'srv12',
        host: '127.0.0.12',
        sqlPort: 54321,
        reachable: true,
        role: 'standby',
        walPosition: '0/40001C0',
        problem: null,
        inInventory: true,
        timeline: 1,
        // It replayed all it received: an hour since the last write is no delay.
        replayDelaySeconds: 0,
        disk: { path: dataDir('srv12'), totalBytes: 2000 * 1024, freeBytes: 1500 * 1024 },
        diskProblem: null,
        readMs: expect.any(Number),
      },
    ]);
    expect(r.replication).toEqual([
      expect.objectContaining({
        applicationName: 'srv13',
        state: 'streaming',
        sent: '0/40001C0',
        lagBytes: 0x300 - 0x1c0,
        sentLagBytes: 0x300 - 0x1c0,
        lagSeconds: 0.112489,
      }),
    ]);
    expect(r.slots?.map((s) => [s.name, s.active, s.retainedBytes])).toEqual([
      ['slot_old', false, 33554840],
      ['slot_srv13', true, 0],
    ]);
    expect(r.archiver).toEqual({
      archiveMode: 'on',
      archivedCount: 41,
      failedCount: 2,
      lastArchivedWal: '000000010000000000000003',
      lastArchivedAt: '2026-11-21T00:15:00.000Z',
      lastFailedWal: '000000010000000000000004',
      lastFailedAt: '2026-11-21T00:16:00.500Z',
    });
    expect(r.pools[0]).toMatchObject({ node: 'srv11', problem: null, poolNodes: expect.any(Array) });
    expect(r.readMs).toBeGreaterThanOrEqual(0);
    // df on each node's own data directory, over its own SSH port, quoted; nothing else is run.
    expect(c.commands.map((x) => [x.target.name, x.target.sshPort, x.command])).toEqual([
      ['srv11', 2222, `'df' '-P' '-k' '--' '${dataDir('srv11')}'`],
      ['srv12', 2222, `'df' '-P' '-k' '--' '${dataDir('srv12')}'`],
    ]);
    for (const a of c.asked) expect(a.sql).toMatch(/^(select|show) /);
  });

  it("gives a standby's replay delay as the age of its last replayed transaction while it is behind", async () => {
    const c = healthy();
    c.answers.set(
      'srv12',
      node('standby', {
        replay: { received: '0/5000000', replayed: '0/40001C0', replay_age_seconds: '42.5' },
      }),
    );
    const r = await read(pg, c);
    expect(r.nodes[1]).toMatchObject({ replayDelaySeconds: 42.5, problem: null });
  });

  it('reads V8R3 through its sys_ names and *_location columns, the lag sent from sent_location', async () => {
    const c = healthy();
    const v8r3 = fixtureRows('writeup/replication-two-standbys.txt');
    c.answers.set('srv11', node('primary', { replication: v8r3, at: '0/ED000100', timeline: 5 }));
    c.answers.set('srv12', node('standby', { timeline: 5 }));
    const r = await read(kb, c);
    expect(r.replication?.map((e) => [e.applicationName, e.sentLagBytes, e.lagBytes, e.lagSeconds])).toEqual([
      ['srv129', 0x100, 0xed000100 - 0xecfff418, null],
      ['srv159', 0x100, 0xed000100 - 0xecfff418, null],
    ]);
    expect(r.nodes.map((n) => [n.name, n.timeline, n.replayDelaySeconds])).toEqual([
      ['srv11', 5, null],
      ['srv12', 5, 0],
    ]);
    expect(r.archiver?.archiveMode).toBe('on');
    const asked = c.asked.map((a) => a.sql).join('\n');
    for (const name of [
      'sys_control_checkpoint()',
      'sys_last_xlog_receive_location()',
      'sys_last_xact_replay_timestamp()',
      'sys_stat_archiver',
      'sys_settings',
    ])
      expect(asked).toContain(name);
    expect(asked).not.toMatch(/\bpg_/);
  });

  it('bounds a node whose connects never settle by the timeout, once, and reads the rest completely', async () => {
    const c = healthy();
    c.silent.add('srv12');
    const [r, ms] = await timed(read(pg, c, T));
    expect(ms).toBeGreaterThanOrEqual(T - 5);
    expect(ms).toBeLessThan(T + MARGIN);
    expect(r.nodes[1]).toMatchObject({
      name: 'srv12',
      reachable: false,
      role: 'unknown',
      timeline: null,
      replayDelaySeconds: null,
      disk: null,
      problem: 'did not answer within 0.2 s',
      diskProblem: 'cannot run df over SSH: did not answer within 0.2 s',
    });
    expect(r.nodes[1]!.readMs).toBeGreaterThanOrEqual(T - 5);
    expect(r.nodes[0]).toMatchObject({ reachable: true, role: 'primary', timeline: 1, problem: null });
    expect(r.nodes[0]!.disk).not.toBeNull();
    expect(r.nodes[0]!.readMs).toBeLessThan(T);
    expect(r).toMatchObject({ primary: 'srv11', replicationProblem: null, archiverProblem: null });
    expect(r.replication).toHaveLength(1);
    expect(r.pools[0]!.poolNodes).toHaveLength(2);
  });

  it('bounds every silent node and pool side by side: the cost is one timeout, not their sum', async () => {
    const c = healthy();
    for (const name of ['srv11', 'srv12', 'pool-srv11']) c.silent.add(name);
    const [r, ms] = await timed(read(pg, c, T));
    expect(ms).toBeLessThan(T + MARGIN);
    expect(r.nodes.map((n) => [n.name, n.reachable, n.problem])).toEqual([
      ['srv11', false, 'did not answer within 0.2 s'],
      ['srv12', false, 'did not answer within 0.2 s'],
    ]);
    expect(r.pools[0]!.problem).toBe('pool on 127.0.0.10:9999 did not answer within 0.2 s');
    expect(r).toMatchObject({
      primary: null,
      replication: null,
      archiver: null,
      archiverProblem: 'no node says it is the primary (srv11, srv12 could not tell)',
    });
  });

  it("bounds the primary's archiver read too, telling its query to stop, and keeps its replication and slots", async () => {
    const c = healthy();
    c.hangOn.set('srv11', /stat_archiver/);
    const [r, ms] = await timed(read(pg, c, T));
    expect(ms).toBeLessThan(2 * T + MARGIN);
    expect(r).toMatchObject({
      primary: 'srv11',
      archiver: null,
      archiverProblem: 'cannot read pg_stat_archiver on srv11: did not answer within 0.2 s',
      replicationProblem: null,
      slotsProblem: null,
    });
    expect(r.replication).toHaveLength(1);
    expect(c.hungSignals.map((s) => s?.aborted)).toEqual([true]);
  });

  it('leaves each unknown null beside its reason, and reads the rest', async () => {
    const c = healthy();
    const primary = node('primary');
    c.answers.set('srv11', (sql) => {
      if (sql.includes('control_checkpoint'))
        throw new Error('function pg_control_checkpoint() does not exist');
      if (sql.includes('stat_archiver')) return [{ ...ARCHIVER, archive_mode: null }];
      return primary(sql);
    });
    c.answers.set(
      'srv12',
      node('standby', { replay: { received: '0/5000000', replayed: '0/40001C0', replay_age_seconds: null } }),
    );
    c.shellAnswers.delete('srv11');
    c.shellAnswers.set('srv12', () =>
      exited(1, '', `df: '${dataDir('srv12')}': No such file or directory\n`),
    );
    c.answers.delete('pool-srv11');
    const r = await read(pg, c);
    expect(r.nodes[0]).toMatchObject({
      reachable: true,
      role: 'primary',
      timeline: null,
      problem: 'timeline unknown: function pg_control_checkpoint() does not exist',
      disk: null,
      diskProblem: 'cannot run df over SSH: cannot reach 127.0.0.11:2222 (ECONNREFUSED)',
    });
    expect(r.nodes[1]).toMatchObject({
      reachable: true,
      timeline: 1,
      replayDelaySeconds: null,
      problem:
        'replay delay unknown: it has replayed no transaction since it started and has not replayed ' +
        'all it received (received 0/5000000, replayed 0/40001C0)',
      disk: null,
      diskProblem: `df exited 1: df: '${dataDir('srv12')}': No such file or directory`,
    });
    expect(r).toMatchObject({
      archiver: null,
      archiverProblem: 'archive_mode is not among the server settings',
      replicationProblem: null,
    });
    expect(r.pools[0]!.problem).toBe(
      'pool on 127.0.0.10:9999 did not answer: connect ECONNREFUSED 127.0.0.10:9999',
    );
  });

  it('reads a backend only the pool knows as a node not in the inventory, its disk included', async () => {
    const c = healthy();
    c.answers.set('pool-srv11', () => [...POOL, poolRow(2, '127.0.0.13', 'standby')]);
    c.answers.set('srv13', node('standby'));
    c.shellAnswers.set('srv13', () => df(3000, 100));
    const r = await read(pg, c);
    expect(r.nodes.map((n) => [n.name, n.inInventory, n.role, n.disk?.freeBytes])).toEqual([
      ['srv11', true, 'primary', 400 * 1024],
      ['srv12', true, 'standby', 1500 * 1024],
      ['srv13', false, 'standby', 100 * 1024],
    ]);
    expect(c.commands.find((x) => x.target.name === 'srv13')?.command).toContain(dataDir('srv13'));
  });

  it('says so, and reads no replication or archiver, when two nodes say they are the primary', async () => {
    const c = healthy();
    c.answers.set('srv12', node('primary'));
    const r = await read(pg, c);
    expect(r).toMatchObject({
      primary: null,
      replication: null,
      slots: null,
      archiver: null,
      archiverProblem: '2 nodes say they are the primary (srv11, srv12)',
    });
    expect(r.nodes.map((n) => n.timeline)).toEqual([1, 1]);
    expect(c.closed).toBe(false); // the caller's to close
  });
});
