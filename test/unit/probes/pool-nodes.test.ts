import { parsePoolNodes, POOL_NODES_SQL, poolNodesProbe } from '../../../src/probes/pool-nodes';
import { parsePsqlTable } from '../../../src/probes/psql-table';
import { fixtureRows, upperCased, valueOf } from './fixture';

describe('show pool_nodes', () => {
  it('is a parameterless sql probe', () => {
    expect(POOL_NODES_SQL).toBe('show pool_nodes');
    expect(poolNodesProbe).toEqual({ kind: 'sql', sql: 'show pool_nodes', params: [] });
  });

  it("parses the write-up's two healthy nodes (kingbasecluster, 3.6/3.7 columns)", () => {
    expect(valueOf(parsePoolNodes(fixtureRows('writeup/pool-nodes-two-up.txt')))).toEqual([
      {
        nodeId: 0,
        hostname: '192.168.4.129',
        port: 54321,
        status: 'up',
        lbWeight: 0.5,
        role: 'standby',
        roleStale: false,
        selectCount: 0,
        loadBalanceNode: true,
        replicationDelay: 0,
      },
      {
        nodeId: 1,
        hostname: '192.168.4.127',
        port: 54321,
        status: 'up',
        lbWeight: 0.5,
        role: 'primary',
        roleStale: false,
        selectCount: 0,
        loadBalanceNode: false,
        replicationDelay: 0,
      },
    ]);
  });

  it('flags the role of a down node as stale (three nodes of weight 1: 0.333333 each)', () => {
    const nodes = valueOf(parsePoolNodes(fixtureRows('writeup/pool-nodes-one-down.txt')));
    expect(nodes.map((n) => [n.nodeId, n.hostname, n.status, n.role, n.roleStale])).toEqual([
      [0, '192.168.4.127', 'up', 'primary', false],
      [1, '192.168.4.129', 'down', 'standby', true],
      [2, '192.168.4.159', 'up', 'standby', false],
    ]);
    expect(nodes.every((n) => n.lbWeight === 0.333333)).toBe(true);
    expect(nodes[0]?.selectCount).toBe(5);
  });

  it('reads upper-cased headers the same way', () => {
    const rows = fixtureRows('writeup/pool-nodes-one-down.txt');
    expect(parsePoolNodes(upperCased(rows))).toEqual(parsePoolNodes(rows));
  });

  it('reads the pgpool-II 4.3 column set, lower-casing status and roles', () => {
    const text = [
      ' node_id | hostname   | port  | status | pg_status | lb_weight | role    | pg_role | select_cnt | load_balance_node | replication_delay | replication_state | replication_sync_state | last_status_change',
      '---------+------------+-------+--------+-----------+-----------+---------+---------+------------+-------------------+-------------------+-------------------+------------------------+---------------------',
      ' 0       | 127.0.0.11 | 54321 | up     | up        | 0.500000  | primary | primary | 3          | false             | 0                 |                   |                        | 2026-11-20 10:00:00',
      ' 1       | 127.0.0.12 | 54321 | up     | up        | 0.500000  | standby | standby | 0          | true              | 0                 | streaming         | async                  | 2026-11-20 10:00:00',
      ' 2       | 127.0.0.13 | 54321 | down   | up        | 0.000000  | Standby | STANDBY | 0          | false             | 1024              | streaming         | async                  | 2026-11-20 10:05:00',
      '(3 rows)',
    ].join('\n');
    const nodes = valueOf(parsePoolNodes(parsePsqlTable(text)));
    expect(nodes[0]).toEqual({
      nodeId: 0,
      hostname: '127.0.0.11',
      port: 54321,
      status: 'up',
      lbWeight: 0.5,
      role: 'primary',
      roleStale: false,
      selectCount: 3,
      loadBalanceNode: false,
      replicationDelay: 0,
      pgStatus: 'up',
      pgRole: 'primary',
      lastStatusChange: '2026-11-20 10:00:00',
    });
    expect(nodes[1]).toMatchObject({ replicationState: 'streaming', replicationSyncState: 'async' });
    // pgpool says down (it was added by reload, not attached yet) while the backend itself is up.
    expect(nodes[2]).toMatchObject({
      status: 'down',
      pgStatus: 'up',
      role: 'standby',
      pgRole: 'standby',
      roleStale: true,
      lbWeight: 0,
      replicationDelay: 1024,
    });
  });

  it('reads the pgpool ≤ 3.4 column set and typed values from a SqlClient', () => {
    const rows = [
      {
        node_id: '0',
        hostname: 'db1',
        port: '5432',
        status: 'waiting',
        lb_weight: '1.000000',
        role: 'primary',
      },
      { node_id: 1, hostname: 'db2', port: 5432, status: 'quarantine', lb_weight: 0, role: 'standby' },
    ];
    expect(valueOf(parsePoolNodes(rows))).toEqual([
      {
        nodeId: 0,
        hostname: 'db1',
        port: 5432,
        status: 'waiting',
        lbWeight: 1,
        role: 'primary',
        roleStale: false,
      },
      {
        nodeId: 1,
        hostname: 'db2',
        port: 5432,
        status: 'quarantine',
        lbWeight: 0,
        role: 'standby',
        roleStale: false,
      },
    ]);
  });

  it('keeps a delay printed with a unit (pgpool ≥ 4.4) as its number', () => {
    const row = { node_id: '0', hostname: 'h', port: '1', status: 'up', lb_weight: '1', role: 'standby' };
    expect(
      valueOf(parsePoolNodes([{ ...row, replication_delay: '0.25 second(s)' }]))[0]?.replicationDelay,
    ).toBe(0.25);
  });

  it('gives no nodes for no rows', () => {
    expect(parsePoolNodes([])).toEqual({ ok: true, value: [] });
  });

  it('says which columns are missing (not a pool: e.g. connected to a backend directly)', () => {
    const r = parsePoolNodes([{ node_id: '0', hostname: 'h' }]);
    expect(r).toEqual({
      ok: false,
      reason: 'show pool_nodes has no port, status, lb_weight, role column (columns: node_id, hostname)',
    });
  });

  it('says which row and value are wrong', () => {
    const row = { node_id: '0', hostname: 'h', port: '5432', status: 'up', lb_weight: '1', role: 'standby' };
    expect(parsePoolNodes([row, { ...row, port: 'x' }])).toEqual({
      ok: false,
      reason: 'show pool_nodes row 2: port is not a number ("x")',
    });
    expect(parsePoolNodes([{ ...row, node_id: '' }])).toEqual({
      ok: false,
      reason: 'show pool_nodes row 1: node_id is not a number (empty)',
    });
    expect(parsePoolNodes([{ ...row, hostname: ' ' }])).toMatchObject({ ok: false });
    expect(parsePoolNodes([{ ...row, status: null }])).toMatchObject({ ok: false });
  });
});
