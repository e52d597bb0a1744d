import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import type { AddNodeParams } from '../../../src/runbooks/add-node/add-node-params';
import {
  preflightAddNode,
  preflightPassed,
  renderPreflight,
  type PreflightCheck,
} from '../../../src/runbooks/add-node/add-node-preflight';
import type {
  AddNodeSnapshot,
  ManagerFacts,
  NewHostFacts,
  NodeFacts,
  PrimaryFacts,
} from '../../../src/runbooks/add-node/add-node-snapshot';
import {
  DATA,
  NEW_HOST,
  POOL_CONF,
  writeupCluster,
  writeupParams,
  writeupSnapshot,
} from './writeup-snapshot';

// Every preflight check on the write-up's cluster: it passes as the write-up found the cluster, and
// each check fails (or warns) on its own when the one fact it judges is bad, with a hint.

let params: AddNodeParams;

beforeAll(async () => {
  const cluster: ClusterConfig = await writeupCluster();
  params = writeupParams(cluster);
});

const GiB = 1024 ** 3;
const base = writeupSnapshot();
const withPrimary = (p: Partial<PrimaryFacts>): AddNodeSnapshot => ({
  ...base,
  primary: { ...base.primary!, ...p },
});
const withNewHost = (n: Partial<NewHostFacts>): AddNodeSnapshot => ({
  ...base,
  newHost: { ...base.newHost, ...n },
});
const withNode = (name: string, n: Partial<NodeFacts>): AddNodeSnapshot => ({
  ...base,
  nodes: base.nodes.map((x) => (x.name === name ? { ...x, ...n } : x)),
});
const withManager = (node: string, m: Partial<ManagerFacts>): AddNodeSnapshot => ({
  ...base,
  managers: base.managers.map((x) => (x.node === node ? { ...x, ...m } : x)),
});

const fail = (name: string, message: string, hint: string): PreflightCheck => ({
  name,
  status: 'fail',
  message,
  hint,
});
const warn = (name: string, message: string, hint: string): PreflightCheck => ({
  name,
  status: 'warn',
  message,
  hint,
});
const run = (s: AddNodeSnapshot, d = kb): PreflightCheck[] => preflightAddNode(s, params, d);
const check = (s: AddNodeSnapshot, name: string, d = kb): PreflightCheck => {
  const found = run(s, d).filter((c) => c.name === name);
  if (found.length !== 1) throw new Error(`expected one check ${name}, got ${found.length}`);
  return found[0]!;
};
/** Only the named checks changed status against the write-up baseline: the scenario isolates them. */
const othersPass = (s: AddNodeSnapshot, names: readonly string[]): void =>
  expect(run(s).filter((c) => c.status !== 'pass' && !names.includes(c.name))).toEqual([]);

describe('preflightAddNode on the write-up cluster', () => {
  it('passes every check as the write-up found the cluster', () => {
    expect(run(base).map((c) => [c.name, c.status, c.message])).toEqual([
      ['nodes-answer', 'pass', 'all 2 nodes answer SQL'],
      ['one-primary', 'pass', 'srv127 is the primary'],
      ['standbys-streaming', 'pass', 'srv129 streaming'],
      ['pool-srv127', 'pass', '2 pool nodes up on 192.168.4.127:9999'],
      ['pool-srv129', 'pass', '2 pool nodes up on 192.168.4.129:9999'],
      ['wal-senders', 'pass', '3 of 4 WAL senders free'],
      ['replication-slots', 'pass', '2 of 4 replication slots free'],
      ['wal-level', 'pass', 'wal_level=replica'],
      [
        'max-connections',
        'pass',
        'the new node copies max_connections=100 from the primary (a standby may not have fewer)',
      ],
      ['ssh-new-host', 'pass', 'logged in to 192.168.4.159 as kingbase with its pinned host key'],
      ['server-version', 'pass', 'same major version as the primary (9.6)'],
      ['data-dir', 'pass', `${DATA} is absent`],
      ['sql-port-free', 'pass', '192.168.4.159:54321 is free'],
      ['free-disk', 'pass', '50.0 GiB free, 3.2 GiB needed (database + 10% + 1 GiB of WAL)'],
      ['crond', 'pass', 'crond runs'],
      ['firewall', 'pass', 'firewalld inactive'],
      ['selinux', 'pass', 'SELinux Disabled'],
      ['not-a-member', 'pass', '192.168.4.159 is not yet a node, backend or KB_ALL_IP member'],
      ['names-unused', 'pass', 'slot slot_srv159 and application_name srv159 are free'],
    ]);
    expect(run(base).every((c) => c.hint === undefined)).toBe(true);
    expect(preflightPassed(run(base))).toBe(true);
  });

  // [name, scenario, expected check, other checks it also trips]: each a fail or warn with its hint.
  const cases: [string, () => AddNodeSnapshot, PreflightCheck, string[]?][] = [
    [
      'a node that does not answer',
      () => withNode('srv129', { inRecovery: null, error: 'connection refused' }),
      fail(
        'nodes-answer',
        'srv129 (192.168.4.129) does not answer: connection refused',
        'bring every node up before adding one',
      ),
    ],
    [
      'two primaries',
      () => withNode('srv129', { inRecovery: false }),
      fail(
        'one-primary',
        '2 nodes are primaries (srv127, srv129)',
        'the cluster must have exactly one primary: fix it before expanding',
      ),
    ],
    [
      'no primary',
      () => withNode('srv127', { inRecovery: true }),
      fail(
        'one-primary',
        '0 nodes are primaries (none)',
        'the cluster must have exactly one primary: fix it before expanding',
      ),
      ['standbys-streaming'], // srv127 is now a standby the primary does not stream to
    ],
    [
      'a standby that is not streaming',
      () => withPrimary({ replication: [{ applicationName: 'srv129', state: 'catchup' }] }),
      fail(
        'standbys-streaming',
        'srv129 not streaming from the primary',
        'repair replication first (check the standby log and its slot)',
      ),
    ],
    [
      'a pool that does not answer',
      () => withManager('srv129', { poolNodes: null }),
      fail(
        'pool-srv129',
        'the pool on 192.168.4.129:9999 did not answer',
        'start the cluster manager, then plan again',
      ),
    ],
    [
      'a pool with a node down',
      () =>
        withManager('srv127', {
          poolNodes: base.managers[0]!.poolNodes!.map((p) => (p.nodeId === 0 ? { ...p, status: 'down' } : p)),
        }),
      fail(
        'pool-srv127',
        'node 0 (192.168.4.129) is down',
        'bring it back (pcp_attach_node) before adding a node',
      ),
    ],
    [
      'a pool still listing a backend its config dropped',
      () =>
        withManager('srv127', {
          poolNodes: [
            ...base.managers[0]!.poolNodes!,
            {
              nodeId: 2,
              hostname: NEW_HOST,
              port: 54321,
              status: 'down',
              role: 'standby',
              lbWeight: 0.333333,
            },
          ],
        }),
      warn(
        'pool-srv127',
        `pool lists node 2 (${NEW_HOST}) that its config no longer has`,
        'left from an earlier rollback; a restart of the manager clears it',
      ),
    ],
    [
      'too few WAL senders',
      () => withPrimary({ maxWalSenders: 2 }),
      fail(
        'wal-senders',
        'only 1 of max_wal_senders=2 free; the base backup needs 2',
        'raise max_wal_senders on the primary (needs a restart)',
      ),
    ],
    [
      'no free replication slot',
      () => withPrimary({ maxReplicationSlots: 2 }),
      fail(
        'replication-slots',
        'all 2 replication slots are in use (slot_srv127, slot_srv129)',
        'drop an unused slot or raise max_replication_slots (restart)',
      ),
    ],
    [
      'a forgotten inactive slot',
      () => withPrimary({ slots: [...base.primary!.slots, { name: 'slot_old', active: false }] }),
      warn(
        'stray-slots',
        'inactive slots nobody uses: slot_old',
        "forgotten slots keep WAL and fill the primary's disk: drop them if unused",
      ),
    ],
    [
      'wal_level=minimal',
      () => withPrimary({ walLevel: 'minimal' }),
      fail(
        'wal-level',
        'wal_level=minimal does not allow streaming replication',
        'set wal_level=replica (restart)',
      ),
    ],
    [
      'no db/etc master copy of kingbase.conf',
      () => withPrimary({ etcServerConf: null }),
      warn('etc-config', 'no db/etc/kingbase.conf on the primary', 'the master copy will not be updated'),
    ],
    [
      'a different server version on the new host',
      () => withNewHost({ serverMajor: 12 }),
      fail(
        'server-version',
        '192.168.4.159 has version 12, the primary 9.6',
        'install the same version as the primary',
      ),
    ],
    [
      'no server found on the new host',
      () => withNewHost({ serverMajor: null }),
      fail(
        'server-version',
        'cannot tell the server version on 192.168.4.159',
        'install the same kingbase-v8r3 build in /home/kingbase/cluster/ESHA/db/bin',
      ),
    ],
    [
      'a data directory with files in it',
      () => withNewHost({ dataDirState: 'non-empty', dataDirEntries: 3 }),
      fail(
        'data-dir',
        `${DATA} is not empty (3 entries)`,
        'choose another data directory, or move its contents away',
      ),
    ],
    [
      'an unreadable data directory',
      () => withNewHost({ dataDirState: 'unknown' }),
      fail('data-dir', `${DATA} is not readable`, 'choose another data directory, or move its contents away'),
    ],
    [
      'the SQL port taken',
      () => withNewHost({ sqlPortInUse: true }),
      fail(
        'sql-port-free',
        'something already listens on 192.168.4.159:54321',
        'stop it, or add the node on another port (--sql-port)',
      ),
    ],
    [
      'the SQL port unknown',
      () => withNewHost({ sqlPortInUse: null }),
      warn('sql-port-free', 'cannot tell whether port 54321 is free on 192.168.4.159', 'check with ss -ltn'),
    ],
    [
      'too little disk',
      () => withNewHost({ freeBytes: 2 * GiB }),
      fail(
        'free-disk',
        `2.0 GiB free for ${DATA}, 3.2 GiB needed`,
        'free space or use another data directory',
      ),
    ],
    [
      'free disk unknown',
      () => withNewHost({ freeBytes: null }),
      warn('free-disk', `cannot tell the free space for ${DATA}`, 'check with df'),
    ],
    [
      'crond not running',
      () => withNewHost({ crondRunning: false }),
      fail(
        'crond',
        'crond is not running on the new host',
        'start it (systemctl enable --now crond): the cluster scripts run from cron',
      ),
    ],
    [
      'firewalld active',
      () => withNewHost({ firewall: 'active' }),
      warn('firewall', 'firewalld is active', 'open 54321/tcp or stop it, as the write-up does'),
    ],
    [
      'SELinux enforcing',
      () => withNewHost({ selinux: 'Enforcing' }),
      warn('selinux', 'SELinux is enforcing', 'set it to permissive, as the write-up does'),
    ],
    [
      'the host already in KB_ALL_IP and kingbasecluster.conf',
      () => ({
        ...withNode('srv129', {
          haModule: { ...base.nodes[1]!.haModule!, allIps: ['192.168.4.127', NEW_HOST] },
        }),
        managers: base.managers.map((m) =>
          m.node === 'srv127'
            ? { ...m, backends: [...m.backends, { index: 2, hostname: NEW_HOST, port: 54321, weight: 1 }] }
            : m,
        ),
      }),
      fail(
        'not-a-member',
        `node ${NEW_HOST} already in ${POOL_CONF} as backend 2; ${NEW_HOST} already in KB_ALL_IP on srv129`,
        'it is already part of the cluster: nothing to add (or remove it first)',
      ),
    ],
    [
      'the slot and application_name already in use',
      () =>
        withPrimary({
          slots: [...base.primary!.slots, { name: 'slot_srv159', active: true }],
          replication: [...base.primary!.replication, { applicationName: 'srv159', state: 'streaming' }],
        }),
      fail(
        'names-unused',
        'slot slot_srv159 exists; application_name srv159 already streams',
        'pick another name with --name (now srv159); two standbys may not share an application_name',
      ),
    ],
  ];

  it.each(cases)('%s', (_, scenario, expected, also = []) => {
    const s = scenario();
    expect(check(s, expected.name)).toEqual(expected);
    othersPass(s, [expected.name, ...also]);
    expect(preflightPassed(run(s))).toBe(expected.status !== 'fail');
  });

  it('fails the pool check with the reason the manager gave', () => {
    const s = withManager('srv127', { error: `cannot read ${POOL_CONF}: permission denied` });
    expect(check(s, 'pool-srv127')).toEqual({
      name: 'pool-srv127',
      status: 'fail',
      message: `cannot read ${POOL_CONF}: permission denied`,
      hint: 'start the cluster manager, then plan again',
    });
  });

  it('counts a waiting pool node as up, and an empty data directory as usable', () => {
    const waiting = withManager('srv129', {
      poolNodes: base.managers[1]!.poolNodes!.map((p) => ({ ...p, status: 'waiting' })),
    });
    expect(check(waiting, 'pool-srv129').status).toBe('pass');
    expect(check(withNewHost({ dataDirState: 'empty' }), 'data-dir')).toEqual({
      name: 'data-dir',
      status: 'pass',
      message: `${DATA} is empty`,
    });
  });

  it('stops at the SSH check when the new host cannot be reached', () => {
    const s = withNewHost({ reachable: false, sshError: 'host key mismatch' });
    const hostChecks = run(s).map((c) => c.name);
    expect(check(s, 'ssh-new-host')).toEqual({
      name: 'ssh-new-host',
      status: 'fail',
      message: 'cannot log in to 192.168.4.159:22: host key mismatch',
      hint: "pin the host key of 192.168.4.159 in the cluster's known_hosts and authorise kbops's key for kingbase",
    });
    for (const skipped of ['server-version', 'data-dir', 'sql-port-free', 'free-disk', 'crond'])
      expect(hostChecks).not.toContain(skipped);
    expect(preflightPassed(run(s))).toBe(false);
  });

  it('asks for crond, firewall, SELinux and db/etc only where the cluster software is copied (V8R3)', () => {
    const names = run(withNewHost({ crondRunning: false, firewall: 'active' }), pg).map((c) => c.name);
    expect(names).toContain('server-version');
    for (const v8r3Only of ['crond', 'firewall', 'selinux', 'etc-config'])
      expect(names).not.toContain(v8r3Only);
    expect(check(withPrimary({ etcServerConf: null }), 'etc-config').status).toBe('warn');
  });

  it('passes with warnings only, and renders each check with its hint when it is not a pass', () => {
    const s = withNewHost({ firewall: 'active', crondRunning: false });
    const checks = run(s);
    expect(preflightPassed(checks.filter((c) => c.name !== 'crond'))).toBe(true);
    expect(preflightPassed(checks)).toBe(false);
    const text = renderPreflight(checks);
    expect(text).toContain('ok   one-primary: srv127 is the primary\n');
    expect(text).toContain(
      'WARN firewall: firewalld is active\n       → open 54321/tcp or stop it, as the write-up does',
    );
    expect(text).toContain(
      'FAIL crond: crond is not running on the new host\n       → start it (systemctl enable --now crond): the cluster scripts run from cron',
    );
  });
});
