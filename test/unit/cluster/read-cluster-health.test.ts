import { parseInventory } from '../../../src/config/load-inventory';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { readClusterHealth } from '../../../src/cluster/read-cluster-health';
import { dialectFor } from '../../../src/dialects/dialect-for';
import { fixtureRows } from '../probes/fixture';
import { HealthConnector, type Answer } from './health-connector';

// readClusterHealth against fake hosts (./health-connector): what was read, from where, and that
// nothing but SQL reads was asked; what could not be read is null with the reason.

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
const PRIMARY_AT = '0/4000300';
const REPLICATION = fixtureRows('pg15/replication.txt'); // srv13 replayed up to 0/40001C0
const POOL = fixtureRows('writeup/pool-nodes-two-up.txt');
const SLOTS = fixtureRows('pg15/slots-primary.txt');

/** A node answering as a primary (its replication view, lag, position and slots) or a standby. */
function node(role: 'primary' | 'standby', replication = REPLICATION, at = PRIMARY_AT): Answer {
  return (sql) => {
    if (sql.includes('as in_recovery'))
      return [{ in_recovery: role === 'standby', position: role === 'primary' ? at : '0/40001C0' }];
    if (sql.startsWith('select * from') && sql.includes('stat_replication')) return replication;
    if (sql.includes('replay_lag_seconds')) return [{ pid: '17135', replay_lag_seconds: '0.112489' }];
    if (/current_(wal_lsn|xlog_location)\(\) as position/.test(sql)) return [{ position: at }];
    if (sql.includes('replication_slots')) return SLOTS;
    throw new Error(`unexpected query ${sql}`);
  };
}

async function read(cluster: ClusterConfig, c: HealthConnector) {
  return readClusterHealth(cluster, { dialect: dialectFor(cluster.dialect), connector: c, now: NOW });
}

describe('readClusterHealth', () => {
  let pg: ClusterConfig;
  beforeAll(async () => {
    pg = await clusterOf('postgresql');
  });

  it("reads roles, the primary's standbys with lag in bytes and seconds, its slots and the pool", async () => {
    const c = new HealthConnector();
    c.answers.set('srv11', node('primary'));
    c.answers.set('srv12', node('standby'));
    c.answers.set('pool-srv11', () => POOL);
    const h = await read(pg, c);
    expect(h).toMatchObject({
      cluster: 'lab',
      dialect: 'postgresql',
      readAt: NOW.toISOString(),
      primary: 'srv11',
      replicationProblem: null,
      slotsProblem: null,
    });
    // The pool fixture names the write-up's hosts, which this inventory lacks: they read as nodes
    // added since (the next test), after the inventory's own.
    expect(h.nodes.slice(0, 2)).toEqual([
      {
        name: 'srv11',
        host: '127.0.0.11',
        sqlPort: 54321,
        reachable: true,
        role: 'primary',
        walPosition: PRIMARY_AT,
        problem: null,
      },
      {
        name: 'srv12',
        host: '127.0.0.12',
        sqlPort: 54321,
        reachable: true,
        role: 'standby',
        walPosition: '0/40001C0',
        problem: null,
      },
    ]);
    expect(h.replication).toEqual([
      {
        applicationName: 'srv13',
        clientAddr: null,
        state: 'streaming',
        syncState: 'async',
        sent: '0/40001C0',
        replay: '0/40001C0',
        lagBytes: 0x300 - 0x1c0,
        lagSeconds: 0.112489,
      },
    ]);
    expect(h.slots?.map((s) => [s.name, s.active, s.retainedBytes])).toEqual([
      ['slot_old', false, 33554840],
      ['slot_srv13', true, 0],
    ]);
    expect(h.pools).toEqual([
      { node: 'srv11', host: '127.0.0.10', sqlPort: 9999, poolNodes: expect.any(Array), problem: null },
    ]);
    expect(h.pools[0]!.poolNodes!.map((p) => `${p.nodeId} ${p.hostname} ${p.status} ${p.role}`)).toEqual([
      '0 192.168.4.129 up standby',
      '1 192.168.4.127 up primary',
    ]);
  });

  it('reads a backend the pool has and the inventory lacks (a node added since) as a node', async () => {
    const c = new HealthConnector();
    c.answers.set('srv11', node('standby'));
    c.answers.set('srv12', node('standby'));
    c.answers.set('srv13', node('primary'));
    c.answers.set('pool-srv11', () => [
      {
        node_id: '0',
        hostname: '127.0.0.11',
        port: '54321',
        status: 'up',
        lb_weight: '0.3',
        role: 'standby',
      },
      {
        node_id: '1',
        hostname: '127.0.0.12',
        port: '54321',
        status: 'up',
        lb_weight: '0.3',
        role: 'standby',
      },
      {
        node_id: '2',
        hostname: '127.0.0.13',
        port: '54321',
        status: 'up',
        lb_weight: '0.3',
        role: 'primary',
      },
    ]);
    const h = await read(pg, c);
    expect(h.nodes.map((n) => [n.name, n.host, n.role])).toEqual([
      ['srv11', '127.0.0.11', 'standby'],
      ['srv12', '127.0.0.12', 'standby'],
      ['srv13', '127.0.0.13', 'primary'],
    ]);
    expect(h.primary).toBe('srv13');
  });

  it("reaches the pool through its node's own SSH port and the manager's address, never a default", async () => {
    const c = new HealthConnector();
    c.answers.set('pool-srv11', () => POOL);
    await read(pg, c);
    const pool = c.asked.find((a) => a.target.name === 'pool-srv11')!.target;
    expect(pool).toEqual({
      name: 'pool-srv11',
      host: '127.0.0.11',
      sshPort: 2222,
      sqlPort: 9999,
      sqlHost: '127.0.0.10',
    });
    expect(c.asked.find((a) => a.target.name === 'pool-srv11')!.sql).toBe('show pool_nodes');
  });

  it('only reads: every question is a select or a show', async () => {
    const c = new HealthConnector();
    c.answers.set('srv11', node('primary'));
    c.answers.set('srv12', node('standby'));
    c.answers.set('pool-srv11', () => POOL);
    await read(pg, c);
    expect(c.asked.length).toBeGreaterThan(5);
    for (const a of c.asked) expect(a.sql).toMatch(/^(select|show) /);
    expect(c.asked.map((a) => a.sql).join('\n')).not.toMatch(
      /pg_reload_conf|create|drop|insert|update|delete/i,
    );
    expect(c.closed).toBe(false); // the caller's to close
  });

  it('says which node does not answer and why, and still reads the rest', async () => {
    const c = new HealthConnector();
    c.answers.set('srv11', node('primary'));
    c.answers.set('pool-srv11', () => POOL);
    const h = await read(pg, c);
    expect(h.nodes[1]).toEqual({
      name: 'srv12',
      host: '127.0.0.12',
      sqlPort: 54321,
      reachable: false,
      role: 'unknown',
      walPosition: null,
      problem: 'connect ECONNREFUSED 127.0.0.12:54321',
    });
    expect(h.primary).toBe('srv11');
    expect(h.replication).toHaveLength(1);
  });

  it('leaves the pool null with the reason when the manager does not answer', async () => {
    const c = new HealthConnector();
    c.answers.set('srv11', node('primary'));
    c.answers.set('srv12', node('standby'));
    const h = await read(pg, c);
    expect(h.pools).toEqual([
      {
        node: 'srv11',
        host: '127.0.0.10',
        sqlPort: 9999,
        poolNodes: null,
        problem: 'pool on 127.0.0.10:9999 did not answer: connect ECONNREFUSED 127.0.0.10:9999',
      },
    ]);
  });

  it('reads no replication and no slots when no single node says it is the primary', async () => {
    const c = new HealthConnector();
    c.answers.set('srv11', node('primary'));
    c.answers.set('srv12', node('primary'));
    const two = await read(pg, c);
    expect(two).toMatchObject({
      primary: null,
      replication: null,
      slots: null,
      replicationProblem: '2 nodes say they are the primary (srv11, srv12)',
      slotsProblem: '2 nodes say they are the primary (srv11, srv12)',
    });
    const none = await read(pg, new HealthConnector());
    expect(none.replicationProblem).toBe('no node says it is the primary (srv11, srv12 could not tell)');
    expect(none.nodes.every((n) => n.role === 'unknown' && !n.reachable)).toBe(true);
  });

  it("gives no lag in bytes, not a guess, when the primary's position cannot be read", async () => {
    const c = new HealthConnector();
    const primary = node('primary');
    c.answers.set('srv11', (sql) => {
      if (/current_wal_lsn\(\) as position$/.test(sql))
        throw new Error('canceling statement due to statement timeout');
      return primary(sql);
    });
    const h = await read(pg, c);
    expect(h.replication?.[0]).toMatchObject({ lagBytes: null, lagSeconds: 0.112489 });
    expect(h.replicationProblem).toBe(
      "lag in bytes unknown: the primary's WAL position could not be read: canceling statement due to statement timeout",
    );
  });

  it('gives no lag in seconds on V8R3, whose replication view has no replay_lag, and does not ask for it', async () => {
    const kb = await clusterOf('kingbase-v8r3');
    const c = new HealthConnector();
    const v8r3 = fixtureRows('writeup/replication-two-standbys.txt');
    c.answers.set('srv11', node('primary', v8r3, '0/ED000000'));
    c.answers.set('srv12', node('standby', v8r3));
    const h = await read(kb, c);
    expect(h.replication?.map((e) => [e.applicationName, e.lagBytes, e.lagSeconds])).toEqual([
      ['srv129', 0xed000000 - 0xecfff418, null],
      ['srv159', 0xed000000 - 0xecfff418, null],
    ]);
    expect(h.replicationProblem).toBeNull();
    expect(c.asked.map((a) => a.sql).join('\n')).not.toContain('replay_lag');
    expect(c.asked.map((a) => a.sql).join('\n')).toContain('sys_current_xlog_location() as position');
  });
});
