import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import type { SealedPlan } from '../../../src/core/plan';
import { PASSWORD_TOKEN } from '../../../src/runbooks/failover-test/failover-plan-context';
import {
  EMPTY_SHA,
  failoverParams,
  lab,
  labAfterDrillFacts,
  labCluster,
  labFacts,
  pg,
} from './failover-facts-fixtures';
import {
  argvOf,
  editOf,
  expectFailoverInvariants,
  expectGoldenPlan,
  expectNoSecret,
  expectPcp,
  planFailover,
  stepOf,
} from './failover-plan-checks';

// The failover test on the lab's shape (PostgreSQL 15 + pgpool-II 4.3): srv11 primary, srv12 and the
// added srv13 standbys, pgpool on 127.0.0.10. The drill stops srv12 then srv11 and expects srv13 to
// take over; the restore brings srv11 and srv12 back with standby.signal + postgresql.auto.conf.

const DRILL_AT = new Date('2026-11-21T01:01:00.000Z');
const RESTORE_AT = new Date('2026-11-21T01:11:00.000Z');
const PASSWORD = 'Zq7!distinctive "pw" $(x)';
const [h11, h12, h13] = lab.hosts;
const ctl = (h: (typeof lab.hosts)[number]) => `${h.binDir}/pg_ctl`;

let cluster: ClusterConfig;
let drill: SealedPlan;
let restore: SealedPlan;

beforeAll(async () => {
  cluster = await labCluster();
  drill = planFailover(failoverParams(cluster), labFacts(), pg, DRILL_AT);
  restore = planFailover(failoverParams(cluster, { phase: 'restore' }), labAfterDrillFacts(), pg, RESTORE_AT);
});

const ids = (p: SealedPlan) => p.steps.map((s) => s.id);
/** pgpool's PCP on 127.0.0.10:9898 (Debian's pgpool2 puts its tools in /usr/sbin). */
const PCP = { binDir: '/usr/sbin', host: '127.0.0.10', port: 9898, user: 'SYSTEM' };

describe('failover-test drill: the lab cluster on PostgreSQL + pgpool-II', () => {
  it('matches the golden plan', () => expectGoldenPlan(drill, 'failover-drill-postgresql-lab'));

  it('keeps the invariants of every failover plan, and rolls back on failure', () => {
    expectFailoverInvariants(drill);
    expect(drill.rollbackOnFailure).toBe(true);
    expect(drill.params).toMatchObject({ phase: 'drill', target: 'srv13', expectedWinner: 'srv13' });
    expect(Object.keys(drill.targets).sort()).toEqual(['pool-srv11', 'srv11', 'srv12', 'srv13']);
    expect(drill.targets['pool-srv11']).toMatchObject({
      host: '127.0.0.11',
      sqlHost: '127.0.0.10',
      sqlPort: 9999,
    });
  });

  it('stops srv12 then srv11 with pg_ctl stop -m fast, asking pg_ names only', () => {
    expect(ids(drill)).toEqual([
      'drill-table',
      'stamp',
      'target-has-rows',
      'stop-srv12',
      'pool-sees-stopped',
      'only-target-streams',
      'stop-primary',
      'verdict',
      'drop-drill-table',
    ]);
    expect(argvOf(stepOf(drill, 'stop-srv12').action)).toEqual([
      ctl(h12),
      'stop',
      '-w',
      '-t',
      '120',
      '-m',
      'fast',
      '-D',
      h12.dataDir,
    ]);
    expect(argvOf(stepOf(drill, 'stop-primary').action)).toEqual([
      ctl(h11),
      'stop',
      '-w',
      '-t',
      '120',
      '-m',
      'fast',
      '-D',
      h11.dataDir,
    ]);
    const json = JSON.stringify(drill);
    expect(json).toContain('select pg_is_in_recovery() as in_recovery');
    expect(json).toContain('from pg_stat_replication');
    expect(json).not.toMatch(/\bsys_/);
  });

  it('undoes stop-primary only while srv13 is still in recovery', () => {
    const undo = stepOf(drill, 'stop-primary').undo!;
    expect(undo[0]).toEqual({
      kind: 'verify',
      on: 'srv13',
      probe: { kind: 'sql', sql: 'select pg_is_in_recovery() as in_recovery', params: [] },
      expect: { kind: 'column-equals', column: 'in_recovery', value: true },
    });
    expectPcp(undo[2], 'pcp_attach_node', 0, PCP);
    expectPcp(stepOf(drill, 'stop-srv12').undo![1], 'pcp_attach_node', 1, PCP);
  });

  it('waits for pgpool to show srv12 down and expects srv13 (backend 2) as its primary', () => {
    expect(stepOf(drill, 'pool-sees-stopped').action).toMatchObject({
      kind: 'wait-until',
      until: { kind: 'all', of: [{ kind: 'some-row', where: { node_id: '1', status: 'down' } }] },
    });
    const v = stepOf(drill, 'verdict');
    if (v.action.kind !== 'verdict') throw new Error('no verdict');
    expect(v.action.checks[1]).toMatchObject({
      target: 'pool-srv11',
      expect: { kind: 'some-row', where: { node_id: '2', status: 'up', role: 'primary' } },
    });
  });

  it('holds no password', () => {
    expectNoSecret(drill, [PASSWORD, 'distinctive']);
    expect(JSON.stringify(drill)).not.toContain(PASSWORD_TOKEN);
  });
});

describe('failover-test restore: the lab cluster after the drill', () => {
  it('matches the golden plan', () => expectGoldenPlan(restore, 'failover-restore-postgresql-lab'));

  it('keeps the invariants of every failover plan', () => {
    expectFailoverInvariants(restore);
    expect(restore.params).toEqual({ phase: 'restore', primary: 'srv13', rejoin: ['srv11', 'srv12'] });
  });

  it('marks the old primary with standby.signal, and points both at srv13 in postgresql.auto.conf', () => {
    expect(ids(restore)).toEqual([
      ...[
        'slot-srv11',
        'standby-signal-srv11',
        'conninfo-srv11',
        'start-srv11',
        'streaming-srv11',
        'attach-srv11',
      ],
      // srv12 was a standby: its standby.signal is still there.
      ...['slot-srv12', 'conninfo-srv12', 'start-srv12', 'streaming-srv12', 'attach-srv12'],
      'verdict',
    ]);
    expect(editOf(stepOf(restore, 'standby-signal-srv11'))).toEqual({
      kind: 'file-edit',
      path: `${h11.dataDir}/standby.signal`,
      expectedSha256: null,
      edit: { type: 'replace', content: '' },
      mode: 0o600,
    });
    const facts = labAfterDrillFacts();
    expect(facts.nodes[1]!.files.standbySignal.sha256).toBe(EMPTY_SHA);
    for (const h of [h11, h12]) {
      const s = stepOf(restore, `conninfo-${h.name}`);
      expect(s.target).toBe(h.name);
      expect(editOf(s)).toEqual({
        kind: 'file-edit',
        path: `${h.dataDir}/postgresql.auto.conf`,
        expectedSha256: facts.nodes.find((n) => n.name === h.name)!.files.autoConf.sha256,
        edit: {
          type: 'set-keys',
          entries: {
            primary_conninfo: `'port=54321 host=${h13.address} user=SYSTEM password=${PASSWORD_TOKEN} application_name=${h.name}'`,
            primary_slot_name: `'${h.slot}'`,
          },
        },
        mode: 0o600,
        secrets: [{ token: PASSWORD_TOKEN, secret: 'db.password', encoding: 'conninfo' }],
      });
    }
    // PostgreSQL 12+ has no recovery.conf, and no db/etc/recovery.done.
    const paths = restore.steps.flatMap((s) => (s.action.kind === 'file-edit' ? [s.action.path] : []));
    expect(paths.filter((p) => /recovery\.(conf|done)/.test(p))).toEqual([]);
    expect(JSON.stringify(restore)).not.toMatch(/\bsys_/);
  });

  it('creates the slots on srv13 and attaches backends 0 and 1 through pgpool', () => {
    expect(stepOf(restore, 'slot-srv12')).toMatchObject({
      target: 'srv13',
      action: {
        kind: 'sql',
        sql: 'select 1 from pg_create_physical_replication_slot($1)',
        params: ['slot_srv12'],
      },
    });
    const attach = stepOf(restore, 'attach-srv11');
    expect(attach).toMatchObject({
      target: 'pool-srv11',
      effect: { present: { kind: 'some-row', where: { node_id: '0', status: 'up' } } },
    });
    expectPcp(attach.action, 'pcp_attach_node', 0, PCP);
    expectPcp(attach.undo![0], 'pcp_detach_node', 0, PCP);
    expect(argvOf(stepOf(restore, 'start-srv12').action).join(' ')).toContain(
      `${ctl(h12)} start -w -t 300 -D ${h12.dataDir} -l ${h12.clusterPath}/log/srv12-kbops-start.log`,
    );
  });

  it('never holds the password', () => {
    expect(JSON.stringify(restore)).toContain(PASSWORD_TOKEN);
    expectNoSecret(restore, [PASSWORD, 'distinctive', pg.conninfoPasswordText(PASSWORD)]);
  });
});
