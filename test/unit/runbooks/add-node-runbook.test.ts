import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import type { AddNodeParams } from '../../../src/runbooks/add-node/add-node-params';
import { addNodeRunbook } from '../../../src/runbooks/add-node/add-node-runbook';
import { planAddNode } from '../../../src/runbooks/add-node/plan-add-node';
import { RUNBOOKS } from '../../../src/runbooks';
import { prepareRun } from '../../../src/runbooks/prepare-run';
import { chatUsage, cliUsage, fieldsOf, runbookProblems } from '../../../src/runbooks/runbook';
import { FakeConnector } from '../engine/fakes';
import { NEW_HOST, writeupCluster, writeupParams, writeupSnapshot } from './writeup-snapshot';

// add-node as a plug-in: its description generates the chat and CLI forms, its words name its runs,
// and prepareRun gives the same plan as the planner itself.

let cluster: ClusterConfig;
beforeAll(async () => {
  cluster = await writeupCluster();
});

describe('addNodeRunbook', () => {
  it('is registered and has a sound description', () => {
    expect(RUNBOOKS).toContain(addNodeRunbook);
    expect(runbookProblems(addNodeRunbook)).toEqual([]);
    expect(addNodeRunbook.form).toEqual({ title: 'Add a data node', submit: 'Plan it' });
  });

  it('offers cluster, host and name= in chat, and every option on the command line', () => {
    expect(chatUsage(addNodeRunbook)).toBe('add-node <cluster> <host> [name=<node>]');
    expect(cliUsage(addNodeRunbook)).toBe(
      'add-node --cluster <cluster> --host <host> [--name <node>] [--ssh-port <port>] [--sql-port <port>] ' +
        '[--cluster-path <path>] [--data-dir <path>] [--count-table <table>]…',
    );
    expect(fieldsOf(addNodeRunbook).map((f) => [f.key, f.meta.kind, f.optional])).toEqual([
      ['cluster', 'cluster', false],
      ['host', 'text', false],
      ['name', 'text', true],
      ['sshPort', 'number', true],
      ['sqlPort', 'number', true],
      ['clusterPath', 'text', true],
      ['dataDir', 'text', true],
      ['countTables', 'list', true],
    ]);
  });

  it('names its runs: the node, its address when the name differs, and the cluster', () => {
    const p = writeupParams(cluster);
    expect(addNodeRunbook.subject(p)).toBe(`add srv159 (${NEW_HOST}) to ESHA`);
    expect(addNodeRunbook.subject({ ...p, name: 'db_03', host: 'db_03' } as AddNodeParams)).toBe(
      'add db_03 to ESHA',
    );
  });

  it('reads base backup progress, the last \\r segment of a line', () => {
    const read = addNodeRunbook.progress!.basebackup!;
    expect(read('873425/2079583 kB (42%), 0/1 tablespace')).toEqual({
      percent: 42,
      message: '873425/2079583 kB (42%), 0/1 tablespace',
    });
    expect(read('10/100 kB (10%), 0/1 tablespace\r90/100 kB (90%), 0/1 tablespace\r')).toEqual({
      percent: 90,
      message: '90/100 kB (90%), 0/1 tablespace',
    });
    expect(read('pg_basebackup: starting background WAL receiver')).toBeUndefined();
  });

  it('plans exactly what the planner plans', () => {
    const params = writeupParams(cluster);
    const facts = writeupSnapshot();
    const now = new Date('2020-10-23T12:00:00.000Z');
    expect(addNodeRunbook.plan({ params, facts, dialect: kb, requester: 'U_REQ', now })).toEqual(
      planAddNode({ params, snapshot: facts, dialect: kb, requester: 'U_REQ', now }),
    );
    expect(addNodeRunbook.preflight(facts, params, kb).filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('makes no plan from a cluster that does not answer, and closes its connector', async () => {
    const connector = new FakeConnector();
    connector.sqlAnswer = () => {
      throw new Error('connection refused');
    };
    const close = jest.spyOn(connector, 'close');
    const r = await prepareRun(
      addNodeRunbook,
      { cluster: 'ESHA', host: NEW_HOST },
      {
        inventory: { clusters: { ESHA: cluster }, reports: [] },
        requester: 'U_REQ',
        connectorFor: () => connector,
      },
    );
    if (!r.ok) throw new Error(r.failure.message);
    expect(r.plan).toBeUndefined();
    expect(r.subject).toBe(`add srv159 (${NEW_HOST}) to ESHA`);
    expect(r.preflight.find((c) => c.name === 'nodes-answer')).toMatchObject({
      status: 'fail',
      message: expect.stringContaining('srv127 (192.168.4.127) does not answer: connection refused'),
    });
    expect(r.preflight.find((c) => c.name === 'pool-srv127')).toMatchObject({ status: 'fail' });
    expect(close).toHaveBeenCalledTimes(1);
  });
});
