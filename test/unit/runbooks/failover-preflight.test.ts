import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { checksPassed, type Check } from '../../../src/core/check';
import type { Dialect } from '../../../src/dialects/dialect';
import {
  failoverConfigOf,
  targetNameOf,
  type FailoverFacts,
} from '../../../src/runbooks/failover-test/failover-facts';
import type { FailoverParams } from '../../../src/runbooks/failover-test/failover-params';
import { preflightDrill, preflightRestore } from '../../../src/runbooks/failover-test/failover-preflight';
import { failoverTestRunbook } from '../../../src/runbooks/failover-test/failover-runbook';
import {
  failoverParams,
  kb,
  kingbaseclusterConf,
  labAfterDrillFacts,
  labCluster,
  labFacts,
  pg,
  withNode,
  writeupAfterDrillFacts,
  writeupFacts,
  writeupFailoverCluster,
} from './failover-facts-fixtures';

// The failover preflight, pure: each check passes on the write-up's cluster (and the lab) as the
// fixtures have them, and fails or warns, with its hint, when the one fact it judges is bad.

let esha: ClusterConfig;
let labc: ClusterConfig;

beforeAll(async () => {
  esha = await writeupFailoverCluster();
  labc = await labCluster();
});

const MiB = 1024 * 1024;
const drillOf = (f: FailoverFacts, input: Record<string, unknown> = {}, d: Dialect = kb): Check[] =>
  preflightDrill(f, failoverParams(esha, input), d);
const restoreOf = (f: FailoverFacts, d: Dialect = kb): Check[] =>
  preflightRestore(f, failoverParams(esha, { phase: 'restore' }), d);
/** Every check that does not pass, as `status name: message → hint` (the drill's standing impact warning left out). */
const notPassing = (checks: readonly Check[]): string =>
  checks
    .filter((c) => c.status !== 'pass' && c.name !== 'impact')
    .map((c) => `${c.status} ${c.name}: ${c.message} → ${c.hint}`)
    .join('\n');
const check = (checks: readonly Check[], name: string): Check => {
  const found = checks.filter((c) => c.name === name);
  if (found.length !== 1) throw new Error(`expected one check ${name}, got ${found.length}`);
  return found[0]!;
};
const withFailover = (f: FailoverFacts, text: string): FailoverFacts => ({
  ...f,
  failover: f.failover.map((c) => failoverConfigOf(c.node, text)),
});

describe('preflightDrill on the write-up cluster after add-node', () => {
  it('passes every check, with one warning: the impact on the applications', () => {
    const checks = drillOf(writeupFacts());
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['nodes-answer', 'pass'],
      ['one-primary', 'pass'],
      ['target', 'pass'],
      ['streaming-srv129', 'pass'],
      ['streaming-srv159', 'pass'],
      ['pool-srv127', 'pass'],
      ['pool-srv129', 'pass'],
      ['failover-srv127', 'pass'],
      ['failover-srv129', 'pass'],
      ['rewind-ready', 'pass'],
      ['ssh-srv127', 'pass'],
      ['ssh-srv129', 'pass'],
      ['ssh-srv159', 'pass'],
      ['expected-winner', 'pass'],
      ['impact', 'warn'],
    ]);
    expect(check(checks, 'target').message).toBe('srv159 (backend 2) is the standby expected to take over');
    expect(check(checks, 'failover-srv127').message).toBe(
      'failover_command set, health check every 1 s on srv127',
    );
    expect(check(checks, 'impact')).toEqual({
      name: 'impact',
      status: 'warn',
      message:
        'writes fail from the moment srv127 stops until srv159 is promoted (up to 60 s); the pool drops every session; srv129, srv127 stay stopped until the restore',
      hint: "run it in a maintenance window and tell the applications' owners; if no promotion happens in time the drill puts the cluster back",
    });
    expect(checksPassed(checks)).toBe(true);
  });

  it('passes on the lab too (pgpool-II, one manager)', () => {
    const checks = preflightDrill(labFacts(), failoverParams(labc), pg);
    expect(notPassing(checks)).toBe('');
    expect(check(checks, 'target').message).toBe('srv13 (backend 2) is the standby expected to take over');
  });

  describe('the target', () => {
    it('defaults to the newest data node: the highest backend index in the pool, wherever it is listed', () => {
      const f = writeupFacts();
      expect(targetNameOf(f, undefined)).toBe('srv159');
      expect(targetNameOf({ ...f, nodes: [...f.nodes].reverse() }, undefined)).toBe('srv159');
      // srv129 re-added as backend 3 is the newest then.
      const renumbered = withNode(f, 'srv129', { poolIndex: 3 });
      expect(targetNameOf(renumbered, undefined)).toBe('srv129');
      expect(check(drillOf(renumbered), 'target').message).toBe(
        'srv129 (backend 3) is the standby expected to take over',
      );
      expect(targetNameOf(f, 'srv129')).toBe('srv129');
    });

    it.each<[string, FailoverFacts, Record<string, unknown>, string]>([
      [
        'the primary',
        writeupFacts(),
        { target: 'srv127' },
        'fail target: srv127 is the primary → the target must be a standby: give target=<standby>',
      ],
      [
        'not a node of the cluster',
        writeupFacts(),
        { target: 'srv200' },
        'fail target: srv200 is not a data node of ESHA (nodes: srv127, srv129, srv159) → give target=<node> of a standby',
      ],
      [
        'a node the manager does not list',
        withNode(writeupFacts(), 'srv159', { poolIndex: null }),
        { target: 'srv159' },
        'fail target: the cluster manager does not list srv159 (192.168.4.159) → add it to the manager (add-node does) so it can be promoted',
      ],
    ])('fails when the target is %s', (_, f, input, expected) => {
      const checks = drillOf(f, input);
      expect(notPassing(checks)).toBe(expected);
      expect(checksPassed(checks)).toBe(false);
    });

    it('fails when the target replays more than maxLagBytes behind, or its lag is unknown', () => {
      const lag = (bytes: number | null) => ({
        ...writeupFacts(),
        replication: writeupFacts().replication!.map((r) =>
          r.applicationName === 'srv159' ? { ...r, lagBytes: bytes } : r,
        ),
      });
      expect(notPassing(drillOf(lag(17 * MiB)))).toBe(
        'fail streaming-srv159: srv159 replays 17.0 MB behind (at most 16.0 MB) → wait until it has caught up, then plan again',
      );
      expect(notPassing(drillOf(lag(null)))).toBe(
        'fail streaming-srv159: srv159 replays an unknown amount behind (at most 16.0 MB) → wait until it has caught up, then plan again',
      );
      expect(notPassing(drillOf(lag(16 * MiB)))).toBe('');
      // Only the target's lag matters: the other standby is stopped before the primary.
      const otherBehind = {
        ...writeupFacts(),
        replication: writeupFacts().replication!.map((r) =>
          r.applicationName === 'srv129' ? { ...r, lagBytes: 900 * MiB } : r,
        ),
      };
      expect(notPassing(drillOf(otherBehind))).toBe('');
    });
  });

  // Each scenario changes one fact of the write-up's cluster; the expected lines are every check that
  // does not pass then (`status name: message → hint`), so all the others must still pass.
  const base = writeupFacts();
  const cases: Record<string, [FailoverFacts, string]> = {
    'a standby that is not streaming': [
      {
        ...base,
        replication: base.replication!.map((r) =>
          r.applicationName === 'srv129' ? { ...r, state: 'catchup' } : r,
        ),
      },
      'fail streaming-srv129: srv129 is not streaming from srv127 (catchup) → repair replication first',
    ],
    'a standby missing from sys_stat_replication': [
      { ...base, replication: base.replication!.filter((r) => r.applicationName !== 'srv129') },
      'fail streaming-srv129: srv129 is not streaming from srv127 → repair replication first',
    ],
    'a pool node down': [
      {
        ...base,
        managers: base.managers.map((m, i) =>
          i === 0
            ? { ...m, poolNodes: m.poolNodes!.map((p) => (p.nodeId === 0 ? { ...p, status: 'down' } : p)) }
            : m,
        ),
      },
      'fail pool-srv127: node 0 (192.168.4.129) is down → bring it back (pcp_attach_node) first',
    ],
    'a pool that does not answer': [
      { ...base, managers: base.managers.map((m, i) => (i === 1 ? { ...m, poolNodes: null } : m)) },
      'fail pool-srv129: the pool on 192.168.4.129:9999 did not answer → start the cluster manager, then plan again',
    ],
    'an empty failover_command (warned: the drill shows nothing promotes, and puts the cluster back)': [
      withFailover(base, kingbaseclusterConf({ failoverCommand: '' })),
      [
        'warn failover-srv127: failover_command is empty on srv127: the manager will not promote anyone → set failover_command (kingbasecluster: its failover script) if the cluster should fail over; otherwise the drill shows that it does not, and puts the cluster back',
        'warn failover-srv129: failover_command is empty on srv129: the manager will not promote anyone → set failover_command (kingbasecluster: its failover script) if the cluster should fail over; otherwise the drill shows that it does not, and puts the cluster back',
      ].join('\n'),
    ],
    'health_check_period = 0 (warned)': [
      withFailover(base, kingbaseclusterConf({ healthCheckPeriod: 0 })),
      [
        'warn failover-srv127: health_check_period is 0 on srv127: the manager will not notice the primary stop → turn health checks on (health_check_period > 0) if the cluster should fail over; otherwise the drill shows that it does not, and puts the cluster back',
        'warn failover-srv129: health_check_period is 0 on srv129: the manager will not notice the primary stop → turn health checks on (health_check_period > 0) if the cluster should fail over; otherwise the drill shows that it does not, and puts the cluster back',
      ].join('\n'),
    ],
    'an unreadable health_check_period (warned)': [
      {
        ...base,
        failover: [
          failoverConfigOf('srv127', kingbaseclusterConf({ healthCheckPeriod: "'often'" })),
          base.failover[1]!,
        ],
      },
      'warn failover-srv127: health_check_period is unreadable on srv127: the manager will not notice the primary stop → turn health checks on (health_check_period > 0) if the cluster should fail over; otherwise the drill shows that it does not, and puts the cluster back',
    ],
    'DISALLOW_TO_FAILOVER on the target': [
      withFailover(base, kingbaseclusterConf({ flag2: 'DISALLOW_TO_FAILOVER' })),
      [
        'fail failover-srv127: backend 2 (srv159) is DISALLOW_TO_FAILOVER on srv127 → allow it (backend_flag = ALLOW_TO_FAILOVER), or choose another target',
        'fail failover-srv129: backend 2 (srv159) is DISALLOW_TO_FAILOVER on srv129 → allow it (backend_flag = ALLOW_TO_FAILOVER), or choose another target',
      ].join('\n'),
    ],
    'no manager configuration read': [
      { ...base, failover: [] },
      'fail manager-failover: no cluster manager configuration was read: nothing would promote a standby → describe the manager (pgpool-II or kingbasecluster) in the inventory, then plan again',
    ],
    'neither wal_log_hints nor data checksums on the primary': [
      withNode(base, 'srv127', { rewindable: false }),
      'fail rewind-ready: srv127 has neither wal_log_hints nor data checksums on → turn wal_log_hints on (needs a restart) so the old primary can rejoin by rewind, then plan again',
    ],
    'wal_log_hints and data checksums unreadable': [
      withNode(base, 'srv127', { rewindable: null }),
      'fail rewind-ready: srv127 has neither wal_log_hints nor data checksums on (or they could not be read) → turn wal_log_hints on (needs a restart) so the old primary can rejoin by rewind, then plan again',
    ],
    'an SSH failure': [
      withNode(base, 'srv129', { sshOk: false, sshError: 'All configured authentication methods failed' }),
      "fail ssh-srv129: cannot log in to 192.168.4.129:22: All configured authentication methods failed → pin the host key of 192.168.4.129 in the cluster's known_hosts and authorise kbops's key for kingbase",
    ],
    'a node that does not answer SQL': [
      withNode(base, 'srv129', { inRecovery: null, sqlError: 'connection refused' }),
      'fail nodes-answer: srv129 (192.168.4.129) does not answer: connection refused → bring every node up first',
    ],
  };

  it.each(Object.entries(cases))('%s', (_, [f, expected]) => {
    const checks = drillOf(f);
    expect(notPassing(checks)).toBe(expected);
    expect(checksPassed(checks)).toBe(!expected.split('\n').some((l) => l.startsWith('fail ')));
  });

  it('DISALLOW_TO_FAILOVER on a backend that is not the target passes', () => {
    const text = kingbaseclusterConf().replace(
      "backend_flag0 = 'ALLOW_TO_FAILOVER'",
      "backend_flag0 = 'DISALLOW_TO_FAILOVER'",
    );
    const f = withFailover(base, text);
    expect(f.failover[0]!.disallowed).toEqual([0]);
    expect(notPassing(drillOf(f))).toBe('');
  });

  it('still plans when failover_command is empty (the drill then shows no promotion, and rolls back)', () => {
    const f = withFailover(base, kingbaseclusterConf({ failoverCommand: '' }));
    const params = failoverParams(esha);
    expect(checksPassed(failoverTestRunbook.preflight(f, params, kb))).toBe(true);
    const plan = failoverTestRunbook.plan({
      params,
      facts: f,
      dialect: kb,
      requester: 'U_REQ',
      now: new Date(0),
    });
    expect(plan.rollbackOnFailure).toBe(true);
  });

  it('reads the write-up style kingbasecluster.conf', () => {
    expect(failoverConfigOf('srv127', kingbaseclusterConf())).toEqual({
      node: 'srv127',
      failoverCommand: '/home/kingbase/cluster/ESHA/kingbasecluster/bin/failover_stream.sh %d %H %P %R',
      healthCheckPeriod: 1,
      disallowed: [],
      backends: [
        {
          index: 0,
          host: '192.168.4.129',
          port: 54321,
          dataDir: '/home/kingbase/cluster/ESHA/db/data',
          applicationName: null,
        },
        {
          index: 1,
          host: '192.168.4.127',
          port: 54321,
          dataDir: '/home/kingbase/cluster/ESHA/db/data',
          applicationName: null,
        },
        {
          index: 2,
          host: '192.168.4.159',
          port: 54321,
          dataDir: '/home/kingbase/cluster/ESHA/db/data',
          applicationName: null,
        },
      ],
    });
    // Unset: pgpool's default, health checks off.
    expect(failoverConfigOf('srv127', 'port = 9999\n').healthCheckPeriod).toBe(0);
    expect(failoverConfigOf('srv127', "#failover_command = '/x.sh'\n").failoverCommand).toBe('');
  });
});

describe('preflightRestore after the drill', () => {
  it('passes on the write-up cluster and on the lab', () => {
    const checks = restoreOf(writeupAfterDrillFacts());
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['one-primary', 'pass'],
      ['rejoin-srv127', 'pass'],
      ['rejoin-srv129', 'pass'],
      ['pool-srv127', 'pass'],
      ['pool-srv129', 'pass'],
      ['ssh-srv127', 'pass'],
      ['ssh-srv129', 'pass'],
      ['ssh-srv159', 'pass'],
    ]);
    expect(check(checks, 'rejoin-srv127').message).toBe(
      'srv127 can follow srv159 as it is (sys_rewind --dry-run: no rewind required)',
    );
    const lab = preflightRestore(labAfterDrillFacts(), failoverParams(labc, { phase: 'restore' }), pg);
    expect(lab.every((c) => c.status === 'pass')).toBe(true);
    expect(check(lab, 'rejoin-srv11').message).toBe(
      'srv11 can follow srv13 as it is (pg_rewind --dry-run: no rewind required)',
    );
  });

  const after = writeupAfterDrillFacts();
  const DIVERGED =
    'sys_rewind: servers diverged at WAL location 1/5603A9E8 on timeline 5 / sys_rewind: rewinding from last common checkpoint at 1/56000060 on timeline 5 / sys_rewind: Done!';
  const cases: Record<string, [FailoverFacts, string]> = {
    // Since rewind-steps.ts the restore rewinds a diverged node instead of refusing it: a warning, with its price.
    'a node that must be rewound (warned: the restore rewinds it)': [
      withNode(after, 'srv127', { rewind: { need: 'needed', said: DIVERGED } }),
      `warn rejoin-srv127: srv127 diverged from srv159 (${DIVERGED}): it will be rewound with sys_rewind → the rewind cannot be undone: what srv127 wrote after the two diverged is lost (its own configuration is kept and put back)`,
    ],
    'a node sys_rewind could not judge': [
      withNode(after, 'srv129', { rewind: { need: 'unknown', said: 'could not connect to server' } }),
      'fail rejoin-srv129: cannot tell whether srv129 can follow srv159: could not connect to server → look at the message, fix it, then plan again',
    ],
    'a node never checked': [
      withNode(after, 'srv129', { rewind: undefined }),
      'fail rejoin-srv129: cannot tell whether srv129 can follow srv159: not checked → look at the message, fix it, then plan again',
    ],
    'nothing stopped': [
      writeupFacts(),
      'fail rejoin: no data node is stopped: there is nothing to restore → nothing to do',
    ],
    'a node whose state is unknown (running = null)': [
      withNode(after, 'srv129', { running: null, sshOk: false, sshError: 'timed out', rewind: undefined }),
      [
        'fail nodes-known: cannot tell whether srv129 runs → make every node reachable over SSH, then plan again',
        "fail ssh-srv129: cannot log in to 192.168.4.129:22: timed out → pin the host key of 192.168.4.129 in the cluster's known_hosts and authorise kbops's key for kingbase",
      ].join('\n'),
    ],
    'no running primary': [
      withNode(after, 'srv159', { running: false, inRecovery: null }),
      [
        'fail one-primary: 0 nodes are primaries (none) → the restore needs exactly one running primary to follow',
        'fail rejoin-srv159: cannot tell whether srv159 can follow the primary: not checked → look at the message, fix it, then plan again',
      ].join('\n'),
    ],
    'a running standby that does not stream from the new primary': [
      withNode(after, 'srv129', { running: true, inRecovery: true, rewind: undefined }),
      'fail streaming-srv129: srv129 runs but does not stream from srv159 → repair it first',
    ],
    'a pool that does not answer': [
      { ...after, managers: after.managers.map((m, i) => (i === 0 ? { ...m, poolNodes: null } : m)) },
      'fail pool-srv127: the pool did not answer → start the cluster manager, then plan again',
    ],
  };

  it.each(Object.entries(cases))('%s', (_, [f, expected]) => {
    const checks = restoreOf(f);
    expect(notPassing(checks)).toBe(expected);
    expect(checksPassed(checks)).toBe(!expected.split('\n').some((l) => l.startsWith('fail ')));
  });
});

// The preflight is pure: the same facts give the same checks, and nothing in them is changed.
it('is pure', () => {
  const f = writeupFacts();
  const copy = JSON.parse(JSON.stringify(f)) as FailoverFacts;
  const params: FailoverParams = failoverParams(esha);
  expect(preflightDrill(f, params, kb)).toEqual(preflightDrill(f, params, kb));
  expect(f).toEqual(copy);
});
