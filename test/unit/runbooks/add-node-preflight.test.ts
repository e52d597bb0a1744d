import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import type { AddNodeParams } from '../../../src/runbooks/add-node/add-node-params';
import { checksPassed, renderChecks, type Check } from '../../../src/core/check';
import { preflightAddNode } from '../../../src/runbooks/add-node/add-node-preflight';
import type { ManagerFacts, NodeFacts } from '../../../src/cluster/cluster-facts';
import type {
  AddNodeSnapshot,
  NewHostFacts,
  PrimaryFacts,
} from '../../../src/runbooks/add-node/add-node-snapshot';
import {
  DATA,
  ESHA,
  NEW_HOST,
  POOL_CONF,
  writeupCluster,
  writeupParams,
  writeupSnapshot,
} from './writeup-snapshot';

// Every preflight check on the write-up's cluster: each passes as the write-up found the cluster, and
// fails (or warns), with its hint, when the one fact it judges is bad.

let params: AddNodeParams;

beforeAll(async () => {
  const cluster: ClusterConfig = await writeupCluster();
  params = writeupParams(cluster);
});

const GiB = 1024 ** 3;
const base = writeupSnapshot();
const pool = base.managers[0]!.poolNodes!;
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

const run = (s: AddNodeSnapshot, d = kb): Check[] => preflightAddNode(s, params, d);
const check = (s: AddNodeSnapshot, name: string, d = kb): Check => {
  const found = run(s, d).filter((c) => c.name === name);
  if (found.length !== 1) throw new Error(`expected one check ${name}, got ${found.length}`);
  return found[0]!;
};

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
      // V8R3 copies the software from the primary: the versions match by construction.
      ['server-version', 'pass', `the software is copied from the primary's ${ESHA}/db`],
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
    expect(checksPassed(run(base))).toBe(true);
  });

  // Each scenario changes one fact of the write-up's cluster; the expected lines are every check that
  // does not pass then (`status name: message → hint`), so all the others must still pass.
  const cases: Record<string, [AddNodeSnapshot, string, typeof pg?]> = {
    'a node that does not answer': [
      withNode('srv129', { inRecovery: null, error: 'connection refused' }),
      'fail nodes-answer: srv129 (192.168.4.129) does not answer: connection refused → bring every node up before adding one',
    ],
    'two primaries': [
      withNode('srv129', { inRecovery: false }),
      'fail one-primary: 2 nodes are primaries (srv127, srv129) → the cluster must have exactly one primary: fix it before expanding',
    ],
    'no primary (srv127 then counts as a standby that does not stream)': [
      withNode('srv127', { inRecovery: true }),
      'fail one-primary: 0 nodes are primaries (none) → the cluster must have exactly one primary: fix it before expanding\n' +
        'fail standbys-streaming: srv127 not streaming from the primary → repair replication first (check the standby log and its slot)',
    ],
    'a standby that is not streaming': [
      withPrimary({ replication: [{ applicationName: 'srv129', state: 'catchup' }] }),
      'fail standbys-streaming: srv129 not streaming from the primary → repair replication first (check the standby log and its slot)',
    ],
    'a pool that does not answer': [
      withManager('srv129', { poolNodes: null }),
      'fail pool-srv129: the pool on 192.168.4.129:9999 did not answer → start the cluster manager, then plan again',
    ],
    'a pool that cannot be read, with its reason': [
      withManager('srv127', { error: `cannot read ${POOL_CONF}: permission denied` }),
      `fail pool-srv127: cannot read ${POOL_CONF}: permission denied → start the cluster manager, then plan again`,
    ],
    'a pool with a node down': [
      withManager('srv127', { poolNodes: pool.map((p) => (p.nodeId === 0 ? { ...p, status: 'down' } : p)) }),
      'fail pool-srv127: node 0 (192.168.4.129) is down → bring it back (pcp_attach_node) before adding a node',
    ],
    'a pool still listing a backend its config dropped': [
      withManager('srv127', {
        poolNodes: [...pool, { ...pool[0]!, nodeId: 2, hostname: NEW_HOST, status: 'down' }],
      }),
      `warn pool-srv127: pool lists node 2 (${NEW_HOST}) that its config no longer has → left from an earlier rollback; a restart of the manager clears it`,
    ],
    'too few WAL senders': [
      withPrimary({ maxWalSenders: 2 }),
      'fail wal-senders: only 1 of max_wal_senders=2 free; the base backup needs 2 → raise max_wal_senders on the primary (needs a restart)',
    ],
    'no free replication slot': [
      withPrimary({ maxReplicationSlots: 2 }),
      'fail replication-slots: all 2 replication slots are in use (slot_srv127, slot_srv129) → drop an unused slot or raise max_replication_slots (restart)',
    ],
    'a forgotten inactive slot': [
      withPrimary({ slots: [...base.primary!.slots, { name: 'slot_old', active: false }] }),
      "warn stray-slots: inactive slots nobody uses: slot_old → forgotten slots keep WAL and fill the primary's disk: drop them if unused",
    ],
    'wal_level=minimal': [
      withPrimary({ walLevel: 'minimal' }),
      'fail wal-level: wal_level=minimal does not allow streaming replication → set wal_level=replica (restart)',
    ],
    'no db/etc master copy of kingbase.conf': [
      withPrimary({ etcServerConf: null }),
      'warn etc-config: no db/etc/kingbase.conf on the primary → the master copy will not be updated',
    ],
    'a different server version on the new host (PostgreSQL: nothing is copied)': [
      withNewHost({ serverMajor: 12 }),
      'fail server-version: 192.168.4.159 has version 12, the primary 9.6 → install the same version as the primary',
      pg,
    ],
    'no server found on the new host (PostgreSQL)': [
      withNewHost({ serverMajor: null }),
      `fail server-version: cannot tell the server version on 192.168.4.159 → install the same postgresql build in ${ESHA}/db/bin`,
      pg,
    ],
    'cluster software already on the new host (V8R3 copies it, and its undo removes it)': [
      withNewHost({ clusterFilesPresent: ['db/bin', 'template.bk'] }),
      `fail cluster-files: ${ESHA}/db/bin, ${ESHA}/template.bk already exist on 192.168.4.159 → move them away: kbops copies the primary's, and its undo removes what it copied`,
    ],
    'a data directory with files in it': [
      withNewHost({ dataDirState: 'non-empty', dataDirEntries: 3 }),
      `fail data-dir: ${DATA} is not empty (3 entries) → choose another data directory, or move its contents away`,
    ],
    'an unreadable data directory': [
      withNewHost({ dataDirState: 'unknown' }),
      `fail data-dir: ${DATA} is not readable → choose another data directory, or move its contents away`,
    ],
    'the SQL port taken': [
      withNewHost({ sqlPortInUse: true }),
      'fail sql-port-free: something already listens on 192.168.4.159:54321 → stop it, or add the node on another port (--sql-port)',
    ],
    'the SQL port unknown': [
      withNewHost({ sqlPortInUse: null }),
      'warn sql-port-free: cannot tell whether port 54321 is free on 192.168.4.159 → check with ss -ltn',
    ],
    'too little disk': [
      withNewHost({ freeBytes: 2 * GiB }),
      `fail free-disk: 2.0 GiB free for ${DATA}, 3.2 GiB needed → free space or use another data directory`,
    ],
    'free disk unknown': [
      withNewHost({ freeBytes: null }),
      `warn free-disk: cannot tell the free space for ${DATA} → check with df`,
    ],
    'crond not running': [
      withNewHost({ crondRunning: false }),
      'fail crond: crond is not running on the new host → start it (systemctl enable --now crond): the cluster scripts run from cron',
    ],
    'firewalld active': [
      withNewHost({ firewall: 'active' }),
      'warn firewall: firewalld is active → open 54321/tcp or stop it, as the write-up does',
    ],
    'SELinux enforcing': [
      withNewHost({ selinux: 'Enforcing' }),
      'warn selinux: SELinux is enforcing → set it to permissive, as the write-up does',
    ],
    'the new host unreachable (its other checks are skipped)': [
      withNewHost({ reachable: false, sshError: 'host key mismatch' }),
      "fail ssh-new-host: cannot log in to 192.168.4.159:22: host key mismatch → pin the host key of 192.168.4.159 in the cluster's known_hosts and authorise kbops's key for kingbase",
    ],
    'a host key that does not match the pinned one: never advise re-pinning blindly': [
      withNewHost({ reachable: false, sshError: 'host key changed', sshErrorCode: 'host-key-mismatch' }),
      "fail ssh-new-host: cannot log in to 192.168.4.159:22: host key changed → verify 192.168.4.159's host key out of band (console, its admin) before changing known_hosts",
    ],
    'no sshd answering': [
      withNewHost({ reachable: false, sshError: 'ECONNREFUSED', sshErrorCode: 'unreachable' }),
      'fail ssh-new-host: cannot log in to 192.168.4.159:22: ECONNREFUSED → start sshd on 192.168.4.159, or check the address and --ssh-port (now 22)',
    ],
    'the key of kbops not authorised': [
      withNewHost({
        reachable: false,
        sshError: 'All configured authentication methods failed',
        sshErrorCode: 'auth-failed',
      }),
      "fail ssh-new-host: cannot log in to 192.168.4.159:22: All configured authentication methods failed → authorise kbops's public key for kingbase on 192.168.4.159 (~kingbase/.ssh/authorized_keys)",
    ],
    'a data directory path that is a file': [
      withNewHost({ dataDirState: 'not-a-directory' }),
      `fail data-dir: ${DATA} is a file, not a directory → choose another data directory, or move its contents away`,
    ],
    'the host already in KB_ALL_IP and kingbasecluster.conf': [
      {
        ...withNode('srv129', {
          haModule: { ...base.nodes[1]!.haModule!, allIps: ['192.168.4.127', NEW_HOST] },
        }),
        managers: base.managers.map((m, i) =>
          i > 0
            ? m
            : { ...m, backends: [...m.backends, { index: 2, hostname: NEW_HOST, port: 54321, weight: 1 }] },
        ),
      },
      `fail not-a-member: node ${NEW_HOST} already in ${POOL_CONF} as backend 2; ${NEW_HOST} already in KB_ALL_IP on srv129 → it is already part of the cluster: nothing to add (or remove it first)`,
    ],
    'the slot and application_name already in use': [
      withPrimary({
        slots: [...base.primary!.slots, { name: 'slot_srv159', active: true }],
        replication: [...base.primary!.replication, { applicationName: 'srv159', state: 'streaming' }],
      }),
      'fail names-unused: slot slot_srv159 exists; application_name srv159 already streams → pick another name with --name (now srv159); two standbys may not share an application_name',
    ],
  };

  it.each(Object.entries(cases))('%s', (_, [s, expected, dialect]) => {
    const checks = run(s, dialect ?? kb);
    const notPassing = checks.filter((c) => c.status !== 'pass');
    expect(notPassing.map((c) => `${c.status} ${c.name}: ${c.message} → ${c.hint}`).join('\n')).toBe(
      expected,
    );
    expect(checksPassed(checks)).toBe(!expected.split('\n').some((l) => l.startsWith('fail ')));
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

  it('skips the other new-host checks when the new host cannot be reached', () => {
    const names = run(withNewHost({ reachable: false, sshError: 'timed out' })).map((c) => c.name);
    expect(names).toContain('ssh-new-host');
    for (const skipped of ['server-version', 'data-dir', 'sql-port-free', 'free-disk', 'crond', 'selinux'])
      expect(names).not.toContain(skipped);
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
    expect(checksPassed(checks.filter((c) => c.name !== 'crond'))).toBe(true);
    expect(checksPassed(checks)).toBe(false);
    const text = renderChecks(checks);
    expect(text).toContain('ok   one-primary: srv127 is the primary\n');
    expect(text).toContain(
      'WARN firewall: firewalld is active\n       → open 54321/tcp or stop it, as the write-up does',
    );
    expect(text).toContain(
      'FAIL crond: crond is not running on the new host\n       → start it (systemctl enable --now crond): the cluster scripts run from cron',
    );
  });
});
