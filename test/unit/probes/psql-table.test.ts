import { parsePsqlTable } from '../../../src/probes/psql-table';
import { fixtureRows, fixtureText } from './fixture';

describe('parsePsqlTable', () => {
  it("reads the write-up's show pool_nodes (wrapping repaired), skipping the prompt and footer", () => {
    expect(fixtureRows('writeup/pool-nodes-two-up.txt')).toEqual([
      {
        node_id: '0',
        hostname: '192.168.4.129',
        port: '54321',
        status: 'up',
        lb_weight: '0.500000',
        role: 'standby',
        select_cnt: '0',
        load_balance_node: 'true',
        replication_delay: '0',
      },
      {
        node_id: '1',
        hostname: '192.168.4.127',
        port: '54321',
        status: 'up',
        lb_weight: '0.500000',
        role: 'primary',
        select_cnt: '0',
        load_balance_node: 'false',
        replication_delay: '0',
      },
    ]);
  });

  it('gives blank cells as empty strings, trailing ones included', () => {
    const [row] = fixtureRows('writeup/slots-before.txt');
    expect(row).toEqual({
      slot_name: 'slot_srv127',
      plugin: '',
      slot_type: 'physical',
      datoid: '',
      database: '',
      active: 'f',
      active_pid: '',
      xmin: '',
      catalog_xmin: '',
      restart_lsn: '',
      confirmed_flush_lsn: '',
    });
  });

  it("splits on | even when a row is misaligned (the write-up's hand-edited slot row)", () => {
    const rows = fixtureRows('writeup/slots-after.txt');
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatchObject({
      slot_name: 'slot_srv159',
      slot_type: 'physical',
      active: 'f',
      restart_lsn: '',
    });
  });

  it('reads a one-column result (ksql banner and prompt before it)', () => {
    expect(fixtureRows('writeup/recovery-state-promoted.txt')).toEqual([{ sys_is_in_recovery: 'f' }]);
  });

  it('reads a one-column NULL, which psql prints as a blank line before the footer', () => {
    const text = ' position \n----------\n \n(1 row)\n';
    expect(parsePsqlTable(text)).toEqual([{ position: '' }]);
  });

  it('cuts a value that holds | by the rule line', () => {
    const text = [' a  |   b   | c', '----+-------+---', ' x  | y | z | w', '(1 row)'].join('\n');
    expect(parsePsqlTable(text)).toEqual([{ a: 'x', b: 'y | z', c: 'w' }]);
  });

  it('stops at a localised footer and handles CRLF line ends', () => {
    const text = [' n ', '---', ' 1', ' 2', '(2 行记录)', '', 'TEST=# '].join('\r\n');
    expect(parsePsqlTable(text)).toEqual([{ n: '1' }, { n: '2' }]);
  });

  it('keeps header names as printed (case is for the row readers)', () => {
    const text = ' NODE_ID | HOSTNAME \n---------+----------\n 0       | h\n(1 row)';
    expect(parsePsqlTable(text)).toEqual([{ NODE_ID: '0', HOSTNAME: 'h' }]);
  });

  it('gives no rows for an empty result or text without a table', () => {
    expect(parsePsqlTable(' a | b \n---+---\n(0 rows)\n')).toEqual([]);
    expect(parsePsqlTable('ksql: could not connect to server')).toEqual([]);
    expect(parsePsqlTable('')).toEqual([]);
  });

  it('reads PostgreSQL 15 psql output with its trailing header spaces', () => {
    const rows = parsePsqlTable(fixtureText('pg15/settings.txt'));
    expect(rows).toHaveLength(9);
    expect(rows.find((r) => r.name === 'shared_buffers')).toEqual({
      name: 'shared_buffers',
      setting: '16384',
      unit: '8kB',
      vartype: 'integer',
    });
  });
});
