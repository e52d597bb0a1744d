import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import type { SealedPlan } from '../../../src/core/plan';
import { evaluate } from '../../../src/core/conditions';
import { PASSWORD_TOKEN } from '../../../src/runbooks/failover-test/failover-plan-context';
import { startUnlessRunning } from '../../../src/shell/server-control';
import {
  failoverParams,
  kb,
  withNode,
  writeupAfterDrillFacts,
  writeupFacts,
  writeupFailoverCluster,
} from './failover-facts-fixtures';
import {
  actionsOf,
  argvOf,
  editOf,
  expectFailoverInvariants,
  expectGoldenPlan,
  expectNoSecret,
  expectPcp,
  planFailover,
  stepOf,
} from './failover-plan-checks';
import { BIN, DATA, ESHA } from './writeup-snapshot';

// The write-up's failover test (../shared/procedure §5) on its V8R3 cluster after add-node: stop
// srv129, then srv127, and prove srv159 took over; then bring srv127 and srv129 back as its standbys.
// The goldens pin every detail; the other tests say what must hold whatever the goldens say.

const DRILL_AT = new Date('2020-10-31T07:20:00.000Z');
const RESTORE_AT = new Date('2020-10-31T07:45:00.000Z');
const PASSWORD = 'Zq7!distinctive "pw" $(x)';
const SYS_CTL = `${BIN}/sys_ctl`;
const IN_RECOVERY = { kind: 'sql', sql: 'select sys_is_in_recovery() as in_recovery', params: [] };

let cluster: ClusterConfig;
let drill: SealedPlan;
let restore: SealedPlan;

beforeAll(async () => {
  cluster = await writeupFailoverCluster();
  drill = planFailover(failoverParams(cluster), writeupFacts(), kb, DRILL_AT);
  restore = planFailover(
    failoverParams(cluster, { phase: 'restore' }),
    writeupAfterDrillFacts(),
    kb,
    RESTORE_AT,
  );
});

const ids = (p: SealedPlan) => p.steps.map((s) => s.id);
/** kingbasecluster's PCP on srv127 (the inventory's first manager node), its tools in kingbasecluster/bin. */
const PCP = { binDir: `${ESHA}/kingbasecluster/bin`, host: '192.168.4.127', port: 9898, user: 'SYSTEM' };

describe('failover-test drill: the write-up cluster on KingbaseES V8R3', () => {
  it('matches the golden plan', () => expectGoldenPlan(drill, 'failover-drill-v8r3-writeup'));

  it('keeps the invariants of every failover plan, and rolls back on failure', () => {
    expectFailoverInvariants(drill);
    expect(drill.rollbackOnFailure).toBe(true);
    expect(drill.params).toMatchObject({
      phase: 'drill',
      target: 'srv159',
      expectedWinner: 'srv159',
      waitMs: 60_000,
    });
  });

  it('finds srv159 as the pool backend the inventory does not list, and expects it to win', () => {
    expect(cluster.nodes.map((n) => n.name)).toEqual(['srv127', 'srv129']);
    expect(drill.targets.srv159).toEqual({
      name: 'srv159',
      host: '192.168.4.159',
      sshPort: 22,
      sqlPort: 54321,
    });
    expect(Object.keys(drill.targets).sort()).toEqual([
      'pool-srv127',
      'pool-srv129',
      'srv127',
      'srv129',
      'srv159',
    ]);
  });

  it("follows the write-up's order: stamp rows, stop srv129, wait, stop srv127, verdict", () => {
    expect(ids(drill)).toEqual([
      'drill-table',
      'stamp',
      'target-has-rows',
      'stop-srv129',
      'pool-sees-stopped',
      'only-target-streams',
      'stop-primary',
      'verdict',
      'drop-drill-table',
    ]);
    expect(stepOf(drill, 'stop-srv129').target).toBe('srv129');
    expect(stepOf(drill, 'stop-primary').target).toBe('srv127');
    expect(stepOf(drill, 'stamp').target).toBe('pool-srv127');
  });

  it('stops with sys_ctl stop -m fast, and sees a stopped server by sys_ctl status exit 3', () => {
    for (const id of ['stop-srv129', 'stop-primary']) {
      const s = stepOf(drill, id);
      expect(argvOf(s.action)).toEqual([SYS_CTL, 'stop', '-w', '-t', '120', '-m', 'fast', '-D', DATA]);
      expect(s.effect).toEqual({
        probe: { kind: 'ssh', argv: [SYS_CTL, 'status', '-D', DATA] },
        present: { kind: 'exit-code', equals: 3 },
      });
    }
  });

  it('asks sys_is_in_recovery() and sys_stat_replication, never a pg_ name', () => {
    const json = JSON.stringify(drill);
    expect(json).toContain('select sys_is_in_recovery() as in_recovery');
    expect(json).toContain('from sys_stat_replication');
    expect(json).not.toMatch(/\bpg_/);
    const only = stepOf(drill, 'only-target-streams');
    expect(only.target).toBe('srv127');
    expect(only.action).toMatchObject({ kind: 'wait-until', probe: { params: ['srv159'] } });
    expect((only.action as { probe: { sql: string } }).probe.sql).toMatch(/ from sys_stat_replication$/);
  });

  it('undoes stop-primary only while srv159 is still in recovery, then restarts srv127 and re-attaches it', () => {
    const undo = stepOf(drill, 'stop-primary').undo!;
    expect(undo[0]).toEqual({
      kind: 'verify',
      on: 'srv159',
      probe: IN_RECOVERY,
      expect: { kind: 'column-equals', column: 'in_recovery', value: true },
    });
    expect(undo).toHaveLength(4);
    expect(undo[1]).toEqual({
      kind: 'ssh',
      argv: startUnlessRunning(SYS_CTL, DATA, `${ESHA}/log/srv127-kbops-start.log`),
    });
    expectPcp(undo[2], 'pcp_attach_node', 1, PCP);
    expect(undo[3]).toEqual({
      kind: 'wait-until',
      on: 'srv127',
      probe: {
        kind: 'sql',
        sql: 'select state from sys_stat_replication where application_name = $1',
        params: ['srv159'],
      },
      until: { kind: 'column-equals', column: 'state', value: 'streaming' },
      intervalMs: 1000,
    });
    // srv129's stop is undone by starting it, attaching backend 0 and waiting until it streams again.
    const undo129 = stepOf(drill, 'stop-srv129').undo!;
    expect(undo129).toHaveLength(3);
    expect(undo129[0]).toEqual({
      kind: 'ssh',
      argv: startUnlessRunning(SYS_CTL, DATA, `${ESHA}/log/srv129-kbops-start.log`),
    });
    expectPcp(undo129[1], 'pcp_attach_node', 0, PCP);
    expect(undo129[2]).toMatchObject({ kind: 'wait-until', on: 'srv127', probe: { params: ['srv129'] } });
  });

  it('guards the primary, the streaming standbys and the running servers until each is stopped', () => {
    expect(drill.guards!.map((g) => [g.name, g.target, g.until])).toEqual([
      ['srv127 is still the primary', 'srv127', 'stop-primary'],
      ['srv159 still streams from srv127', 'srv127', 'stop-primary'],
      ['srv129 still streams from srv127', 'srv127', 'stop-srv129'],
      ["srv127's server runs", 'srv127', 'stop-primary'],
      ["srv129's server runs", 'srv129', 'stop-srv129'],
    ]);
  });

  it('ends with a verdict: srv159 promoted in time, primary in the pool, takes writes, rows counted, others stopped', () => {
    const v = stepOf(drill, 'verdict');
    if (v.action.kind !== 'verdict') throw new Error('no verdict');
    expect(v.action.checks.map((c) => [c.kind, c.name])).toEqual([
      ['probe', 'srv159 promoted within 60 s (expected winner)'],
      ['probe', 'the pool lists srv159 as its primary, up'],
      ['probe', 'a write through the pool lands on srv159'],
      ['lost-rows', 'acknowledged rows on srv159'],
      ['probe', 'srv127 stays stopped (one primary)'],
      ['probe', 'srv129 stays stopped (one primary)'],
    ]);
    expect(v.action.checks[0]).toMatchObject({
      target: 'srv159',
      probe: IN_RECOVERY,
      expect: { kind: 'column-equals', column: 'in_recovery', value: false },
      waitMs: 60_000,
      measure: 'failover time',
    });
    expect(v.action.checks[1]).toMatchObject({
      target: 'pool-srv127',
      expect: { kind: 'some-row', where: { node_id: '2', status: 'up', role: 'primary' } },
    });
  });

  it('waits up to wait= seconds for the promotion', () => {
    const p = planFailover(failoverParams(cluster, { wait: 120 }), writeupFacts(), kb, DRILL_AT);
    const v = stepOf(p, 'verdict');
    if (v.action.kind !== 'verdict') throw new Error('no verdict');
    expect(v.action.checks[0]).toMatchObject({
      name: 'srv159 promoted within 120 s (expected winner)',
      waitMs: 120_000,
    });
    expect(p.params.waitMs).toBe(120_000);
  });

  it('holds no password: the PCP password goes on stdin', () => {
    expectNoSecret(drill, [PASSWORD, kb.conninfoPasswordText(PASSWORD), 'distinctive']);
    expect(JSON.stringify(drill)).not.toContain(PASSWORD_TOKEN);
  });

  // After a crash, assessInterrupted reads the effect of every change up to the one in flight, and
  // resumes only if each is present. The drill stops srv127 and srv129 for the rest of the run and
  // its verdict writes row 101, so these effects must stay readable and true after stop-primary.
  // drill-table's effect is read through the pool (the primary of the moment), and stamp's wants at
  // least 100 rows: a crash after stop-primary can be resumed.
  it('reads no effect by SQL on a node the drill stops', () => {
    for (const s of drill.steps.filter((x) => x.mutates && x.effect?.probe.kind === 'sql'))
      expect({ id: s.id, target: s.target }).toEqual({
        id: s.id,
        target: expect.not.stringMatching(/^srv12[79]$/),
      });
  });

  it("still sees stamp's effect once the verdict has written row 101", () => {
    const stamp = stepOf(drill, 'stamp').effect!;
    expect(evaluate(stamp.present, { kind: 'sql', rows: [{ n: 100 }] }).ok).toBe(true);
    expect(evaluate(stamp.present, { kind: 'sql', rows: [{ n: 101 }] }).ok).toBe(true);
  });

  // A step's undo runs on the step's own target unless an action says `on`: the re-attach runs on
  // the manager's host (kingbasecluster/bin exists only there), whichever node is stopped.
  it('re-attaches through a host that has the pcp tools, whichever node is stopped', () => {
    const afterRestore = withNode(
      withNode(withNode(writeupFacts(), 'srv159', { inRecovery: false }), 'srv127', { inRecovery: true }),
      'srv129',
      { inRecovery: true },
    );
    const facts = {
      ...afterRestore,
      replication: ['srv127', 'srv129'].map((n) => ({ applicationName: n, state: 'streaming', lagBytes: 0 })),
    };
    const p = planFailover(failoverParams(cluster, { target: 'srv129' }), facts, kb, DRILL_AT);
    const managerHosts = ['srv127', 'srv129', 'pool-srv127', 'pool-srv129'];
    const pcpOn = actionsOf(p)
      .filter(({ action }) => action.kind === 'ssh' && action.argv.some((a) => a.includes('/pcp_')))
      .map(({ step, action }) => (action.kind === 'ssh' && action.on) || step.target);
    expect(pcpOn.length).toBeGreaterThan(0);
    for (const t of pcpOn) expect(managerHosts).toContain(t);
  });
});

describe('failover-test restore: the write-up cluster after the drill', () => {
  it('matches the golden plan', () => expectGoldenPlan(restore, 'failover-restore-v8r3-writeup'));

  it('keeps the invariants of every failover plan', () => {
    expectFailoverInvariants(restore);
    expect(restore.params).toEqual({ phase: 'restore', primary: 'srv159', rejoin: ['srv127', 'srv129'] });
  });

  // Both phases roll back at once on failure: a half-done restore (a slot on srv159 holding WAL)
  // does not wait for a person.
  it('rolls back on failure, as the drill does', () => {
    expect(restore.rollbackOnFailure).toBe(true);
  });

  it('for each stopped node: slot on srv159, recovery.conf and db/etc/recovery.done, start, stream, attach', () => {
    const per = (n: string) =>
      ['slot', 'recovery-conf', 'recovery-done', 'start', 'streaming', 'attach'].map((s) => `${s}-${n}`);
    expect(ids(restore)).toEqual([...per('srv127'), ...per('srv129'), 'verdict']);
    expect(stepOf(restore, 'slot-srv127')).toMatchObject({
      target: 'srv159',
      action: {
        kind: 'sql',
        sql: 'select 1 from sys_create_physical_replication_slot($1)',
        params: ['slot_srv127'],
      },
      undo: [{ kind: 'sql', sql: 'select 1 from sys_drop_replication_slot($1)', params: ['slot_srv127'] }],
    });
    const attach = stepOf(restore, 'attach-srv127');
    expect(attach.target).toBe('pool-srv127');
    expectPcp(attach.action, 'pcp_attach_node', 1, PCP);
    expect(attach.undo).toHaveLength(1);
    expectPcp(attach.undo![0], 'pcp_detach_node', 1, PCP);
    expect(attach.undo![0]).toMatchObject({ okExitCodes: [0, 1] });
    expect(attach.effect).toEqual({
      probe: { kind: 'sql', sql: 'show pool_nodes', params: [] },
      present: { kind: 'some-row', where: { node_id: '1', status: 'up' } },
    });
    expectPcp(stepOf(restore, 'attach-srv129').action, 'pcp_attach_node', 0, PCP);
  });

  it('writes recovery.conf and db/etc/recovery.done pointing at srv159, the password as a base64 token', () => {
    const content = (n: string) =>
      [
        "standby_mode = 'on'",
        `primary_conninfo = 'port=54321 host=192.168.4.159 user=SYSTEM password=${PASSWORD_TOKEN} application_name=${n}'`,
        "recovery_target_timeline = 'latest'",
        `primary_slot_name = 'slot_${n}'`,
        '',
      ].join('\n');
    const facts = writeupAfterDrillFacts();
    for (const n of ['srv127', 'srv129']) {
      const node = facts.nodes.find((x) => x.name === n)!;
      for (const [id, path, sha] of [
        [`recovery-conf-${n}`, `${DATA}/recovery.conf`, node.files.recoveryConf.sha256],
        [`recovery-done-${n}`, `${ESHA}/db/etc/recovery.done`, node.files.recoveryDone!.sha256],
      ] as const) {
        const s = stepOf(restore, id);
        expect(s.target).toBe(n);
        expect(editOf(s)).toMatchObject({
          path,
          expectedSha256: sha,
          edit: { type: 'replace', content: content(n) },
          mode: 0o600,
          secrets: [{ token: PASSWORD_TOKEN, secret: 'db.password', encoding: 'base64' }],
        });
      }
    }
    // srv127 was the primary: it has no recovery.conf, so the edit creates it.
    expect(editOf(stepOf(restore, 'recovery-conf-srv127')).expectedSha256).toBeNull();
    // V8R3 has no standby.signal nor auto.conf to write.
    const paths = restore.steps.flatMap((s) => (s.action.kind === 'file-edit' ? [s.action.path] : []));
    expect(paths.filter((p) => /standby\.signal|auto\.conf/.test(p))).toEqual([]);
  });

  it('starts each node with sys_ctl and -l, as a change whose undo stops only what it started', () => {
    const s = stepOf(restore, 'start-srv129');
    const argv = argvOf(s.action).join(' ');
    expect(argv).toContain(`${SYS_CTL} start -w -t 300 -D ${DATA} -l ${ESHA}/log/srv129-kbops-start.log`);
    expect(argvOf(s.undo![0]!).join(' ')).toContain(`${SYS_CTL} stop -w -t 120 -m fast -D ${DATA}`);
    expect(s.effect).toEqual({
      probe: { kind: 'ssh', argv: [SYS_CTL, 'status', '-D', DATA] },
      present: { kind: 'exit-code', equals: 0 },
    });
    expect(JSON.stringify(restore)).not.toMatch(/\bpg_/);
  });

  it('guards srv159 as the primary and both nodes as stopped until started', () => {
    expect(restore.guards!.map((g) => [g.name, g.target, g.until])).toEqual([
      ['srv159 is still the primary', 'srv159', undefined],
      ["srv127's server is stopped", 'srv127', 'start-srv127'],
      ["srv129's server is stopped", 'srv129', 'start-srv129'],
    ]);
  });

  it('ends with a verdict: both caught up with srv159, all three up in the pool with their roles', () => {
    const v = stepOf(restore, 'verdict');
    if (v.action.kind !== 'verdict') throw new Error('no verdict');
    expect(v.action.checks.map((c) => c.name)).toEqual([
      'srv127 streams from srv159 and replayed up to it',
      'srv129 streams from srv159 and replayed up to it',
      'the pool lists srv127 up as a standby',
      'the pool lists srv129 up as a standby',
      'the pool lists srv159 up as primary',
    ]);
    expect(v.action.checks[0]).toMatchObject({
      kind: 'catch-up',
      primary: 'srv159',
      standby: 'srv127',
      positionSql: 'select sys_current_xlog_location()::text as position',
      caughtUpSql: 'select sys_xlog_location_diff(sys_last_xlog_replay_location(), $1) >= 0 as caught_up',
    });
  });

  it('never holds the password, not even when it is in the environment', () => {
    const before = process.env.KBOPS_ESHA_DB_PASSWORD;
    process.env.KBOPS_ESHA_DB_PASSWORD = PASSWORD;
    try {
      const again = planFailover(
        failoverParams(cluster, { phase: 'restore' }),
        writeupAfterDrillFacts(),
        kb,
        RESTORE_AT,
      );
      expect(again).toEqual(restore);
      expect(JSON.stringify(again)).toContain(PASSWORD_TOKEN);
      expectNoSecret(again, [
        PASSWORD,
        kb.conninfoPasswordText(PASSWORD),
        'distinctive',
        kb.conninfoPasswordText('123456'),
      ]);
    } finally {
      if (before === undefined) delete process.env.KBOPS_ESHA_DB_PASSWORD;
      else process.env.KBOPS_ESHA_DB_PASSWORD = before;
    }
  });

  it('rewinds a node that diverged with sys_rewind, its own configuration kept aside and put back', () => {
    const facts = withNode(writeupAfterDrillFacts(), 'srv127', {
      rewind: {
        need: 'needed',
        said: 'sys_rewind: servers diverged at WAL location 1/5603A9E8 on timeline 5',
      },
    });
    const p = planFailover(failoverParams(cluster, { phase: 'restore' }), facts, kb, RESTORE_AT);
    expectFailoverInvariants(p);
    expect(ids(p).slice(0, 7)).toEqual([
      'slot-srv127',
      'keep-conf-srv127',
      'rewind-srv127',
      'put-back-conf-srv127',
      'recovery-conf-srv127',
      'recovery-done-srv127',
      'start-srv127',
    ]);
    expect(ids(p).filter((id) => /rewind|conf-srv129/.test(id))).toEqual([
      'rewind-srv127',
      'recovery-conf-srv129',
    ]);
    const rewind = stepOf(p, 'rewind-srv127');
    expect(rewind).toMatchObject({
      target: 'srv127',
      mutates: true,
      undo: [],
      action: { stdinSecret: 'db.password' },
    });
    const argv = argvOf(rewind.action);
    expect(argv).toContain(`${BIN}/sys_rewind`);
    expect(argv).toContain('--source-server=host=192.168.4.159 port=54321 user=SYSTEM dbname=TEST');
    expect(argv.slice(argv.indexOf(`${BIN}/sys_rewind`))).toEqual([
      `${BIN}/sys_rewind`,
      '-D',
      DATA,
      '--source-server=host=192.168.4.159 port=54321 user=SYSTEM dbname=TEST',
    ]);
    expect(argv.join(' ')).not.toMatch(/ -W|password=/);
    expectNoSecret(p, [PASSWORD, 'distinctive']);
  });

  it('skips the slot a node already has on the new primary', () => {
    const p = planFailover(
      failoverParams(cluster, { phase: 'restore' }),
      { ...writeupAfterDrillFacts(), slots: ['slot_srv129'] },
      kb,
      RESTORE_AT,
    );
    expect(ids(p).filter((id) => id.startsWith('slot-'))).toEqual(['slot-srv127']);
  });
});
