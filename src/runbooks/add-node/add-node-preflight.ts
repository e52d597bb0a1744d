import { posix } from 'node:path';
import type { Dialect } from '../../dialects/dialect';
import type { AddNodeParams } from './add-node-params';
import type { AddNodeSnapshot } from './add-node-snapshot';

// Every preflight check by name, each pass / warn / fail with a hint saying what to do. Pure: a
// function of the snapshot, so each scenario is a unit test and the same verdict shows everywhere.

export interface PreflightCheck {
  readonly name: string;
  readonly status: 'pass' | 'warn' | 'fail';
  readonly message: string;
  readonly hint?: string;
}

const GiB = 1024 ** 3;
const pass = (name: string, message: string): PreflightCheck => ({ name, status: 'pass', message });
const warn = (name: string, message: string, hint: string): PreflightCheck => ({
  name,
  status: 'warn',
  message,
  hint,
});
const fail = (name: string, message: string, hint: string): PreflightCheck => ({
  name,
  status: 'fail',
  message,
  hint,
});
const bytes = (n: number): string =>
  n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;

function clusterChecks(s: AddNodeSnapshot): PreflightCheck[] {
  const out: PreflightCheck[] = [];
  const silent = s.nodes.filter((n) => n.inRecovery === null);
  out.push(
    silent.length === 0
      ? pass('nodes-answer', `all ${s.nodes.length} nodes answer SQL`)
      : fail(
          'nodes-answer',
          silent.map((n) => `${n.name} (${n.host}) does not answer: ${n.error ?? 'no reply'}`).join('; '),
          'bring every node up before adding one',
        ),
  );
  const primaries = s.nodes.filter((n) => n.inRecovery === false);
  out.push(
    primaries.length === 1
      ? pass('one-primary', `${primaries[0]!.name} is the primary`)
      : fail(
          'one-primary',
          `${primaries.length} nodes are primaries (${primaries.map((n) => n.name).join(', ') || 'none'})`,
          'the cluster must have exactly one primary: fix it before expanding',
        ),
  );
  // With one primary, every other node is meant to be its standby, answering or not.
  const standbys =
    primaries.length === 1
      ? s.nodes.filter((n) => n !== primaries[0])
      : s.nodes.filter((n) => n.inRecovery === true);
  const notStreaming = standbys.filter(
    (n) => s.primary?.replication.find((r) => r.applicationName === n.name)?.state !== 'streaming',
  );
  out.push(
    notStreaming.length === 0
      ? pass('standbys-streaming', `${standbys.map((n) => n.name).join(', ') || 'no standby'} streaming`)
      : fail(
          'standbys-streaming',
          `${notStreaming.map((n) => n.name).join(', ')} not streaming from the primary`,
          'repair replication first (check the standby log and its slot)',
        ),
  );
  for (const m of s.managers) {
    if (m.error || m.poolNodes === null) {
      out.push(
        fail(
          `pool-${m.node}`,
          m.error ?? `the pool on ${m.host}:${m.sqlPort} did not answer`,
          'start the cluster manager, then plan again',
        ),
      );
      continue;
    }
    const configured = new Set(m.backends.map((b) => b.index));
    const down = m.poolNodes.filter(
      (p) => configured.has(p.nodeId) && p.status !== 'up' && p.status !== 'waiting',
    );
    const stale = m.poolNodes.filter((p) => !configured.has(p.nodeId));
    if (down.length > 0) {
      out.push(
        fail(
          `pool-${m.node}`,
          down.map((p) => `node ${p.nodeId} (${p.hostname}) is ${p.status}`).join('; '),
          'bring it back (pcp_attach_node) before adding a node',
        ),
      );
    } else if (stale.length > 0) {
      out.push(
        warn(
          `pool-${m.node}`,
          `pool lists ${stale.map((p) => `node ${p.nodeId} (${p.hostname})`).join(', ')} that its config no longer has`,
          'left from an earlier rollback; a restart of the manager clears it',
        ),
      );
    } else {
      out.push(pass(`pool-${m.node}`, `${m.poolNodes.length} pool nodes up on ${m.host}:${m.sqlPort}`));
    }
  }
  return out;
}

function primaryChecks(s: AddNodeSnapshot, d: Dialect): PreflightCheck[] {
  const p = s.primary;
  if (!p) return [];
  const out: PreflightCheck[] = [];
  const senders = p.maxWalSenders;
  // A base backup with -X stream takes two senders while it runs, and the new standby keeps one.
  if (senders !== null) {
    const free = senders - p.replication.length;
    out.push(
      free >= 2
        ? pass('wal-senders', `${free} of ${senders} WAL senders free`)
        : fail(
            'wal-senders',
            `only ${free} of max_wal_senders=${senders} free; the base backup needs 2`,
            'raise max_wal_senders on the primary (needs a restart)',
          ),
    );
  }
  if (p.maxReplicationSlots !== null) {
    const free = p.maxReplicationSlots - p.slots.length;
    out.push(
      free >= 1
        ? pass('replication-slots', `${free} of ${p.maxReplicationSlots} replication slots free`)
        : fail(
            'replication-slots',
            `all ${p.maxReplicationSlots} replication slots are in use (${p.slots.map((x) => x.name).join(', ')})`,
            'drop an unused slot or raise max_replication_slots (restart)',
          ),
    );
  }
  const inactive = p.slots.filter((x) => !x.active && !s.nodes.some((n) => `slot_${n.name}` === x.name));
  if (inactive.length > 0) {
    out.push(
      warn(
        'stray-slots',
        `inactive slots nobody uses: ${inactive.map((x) => x.name).join(', ')}`,
        "forgotten slots keep WAL and fill the primary's disk: drop them if unused",
      ),
    );
  }
  if (p.walLevel !== null) {
    out.push(
      ['replica', 'logical', 'hot_standby'].includes(p.walLevel)
        ? pass('wal-level', `wal_level=${p.walLevel}`)
        : fail(
            'wal-level',
            `wal_level=${p.walLevel} does not allow streaming replication`,
            'set wal_level=replica (restart)',
          ),
    );
  }
  if (p.maxConnections !== null) {
    out.push(
      pass(
        'max-connections',
        `the new node copies max_connections=${p.maxConnections} from the primary (a standby may not have fewer)`,
      ),
    );
  }
  if (d.caps.copyClusterFiles && !p.etcServerConf) {
    out.push(
      warn(
        'etc-config',
        `no db/etc/${d.files.serverConf} on the primary`,
        'the master copy will not be updated',
      ),
    );
  }
  return out;
}

function dirProblem(state: string, entries: number | undefined): string {
  if (state === 'unknown') return 'not readable';
  if (state === 'not-a-directory') return 'a file, not a directory';
  return `not empty (${entries ?? '?'} ${entries === 1 ? 'entry' : 'entries'})`;
}

function sshHint(n: AddNodeSnapshot['newHost'], user: string): string {
  switch (n.sshErrorCode) {
    case 'unreachable':
    case 'timeout':
      return `start sshd on ${n.host}, or check the address and --ssh-port (now ${n.sshPort})`;
    case 'host-key-mismatch':
      // Never advise re-pinning blindly: the other key may be an interceptor's.
      return `verify ${n.host}'s host key out of band (console, its admin) before changing known_hosts`;
    case 'auth-failed':
      return `authorise kbops's public key for ${user} on ${n.host} (~${user}/.ssh/authorized_keys)`;
    default:
      return `pin the host key of ${n.host} in the cluster's known_hosts and authorise kbops's key for ${user}`;
  }
}

function newHostChecks(s: AddNodeSnapshot, params: AddNodeParams, d: Dialect): PreflightCheck[] {
  const n = s.newHost;
  if (!n.reachable) {
    return [
      fail(
        'ssh-new-host',
        `cannot log in to ${n.host}:${n.sshPort}: ${n.sshError ?? 'no reason given'}`,
        sshHint(n, params.cluster.ssh.user),
      ),
    ];
  }
  const out: PreflightCheck[] = [
    pass('ssh-new-host', `logged in to ${n.host} as ${params.cluster.ssh.user} with its pinned host key`),
  ];
  const pm = s.primary?.serverMajor ?? null;
  out.push(
    d.caps.copyClusterFiles
      ? pass(
          'server-version',
          `the software is copied from the primary's ${posix.join(params.clusterPath, 'db')}`,
        )
      : n.serverMajor === null || pm === null
        ? fail(
            'server-version',
            `cannot tell the server version on ${n.serverMajor === null ? n.host : 'the primary'}`,
            `install the same ${d.id} build in ${n.binDir}`,
          )
        : n.serverMajor === pm
          ? pass('server-version', `same major version as the primary (${pm})`)
          : fail(
              'server-version',
              `${n.host} has version ${n.serverMajor}, the primary ${pm}`,
              'install the same version as the primary',
            ),
  );
  out.push(
    n.dataDirState === 'absent' || n.dataDirState === 'empty'
      ? pass('data-dir', `${n.dataDir} is ${n.dataDirState}`)
      : fail(
          'data-dir',
          `${n.dataDir} is ${dirProblem(n.dataDirState, n.dataDirEntries)}`,
          'choose another data directory, or move its contents away',
        ),
  );
  out.push(
    n.sqlPortInUse === null
      ? warn(
          'sql-port-free',
          `cannot tell whether port ${n.sqlPort} is free on ${n.host}`,
          'check with ss -ltn',
        )
      : n.sqlPortInUse
        ? fail(
            'sql-port-free',
            `something already listens on ${n.host}:${n.sqlPort}`,
            'stop it, or add the node on another port (--sql-port)',
          )
        : pass('sql-port-free', `${n.host}:${n.sqlPort} is free`),
  );
  const need = (s.primary?.databaseBytes ?? 0) * 1.1 + GiB;
  out.push(
    n.freeBytes === null
      ? warn('free-disk', `cannot tell the free space for ${n.dataDir}`, 'check with df')
      : n.freeBytes >= need
        ? pass(
            'free-disk',
            `${bytes(n.freeBytes)} free, ${bytes(need)} needed (database + 10% + 1 GiB of WAL)`,
          )
        : fail(
            'free-disk',
            `${bytes(n.freeBytes)} free for ${n.dataDir}, ${bytes(need)} needed`,
            'free space or use another data directory',
          ),
  );
  if (d.caps.copyClusterFiles && (n.clusterFilesPresent?.length ?? 0) > 0) {
    out.push(
      fail(
        'cluster-files',
        `${n.clusterFilesPresent!.map((f) => posix.join(n.clusterPath, f)).join(', ')} already exist on ${n.host}`,
        "move them away: kbops copies the primary's, and its undo removes what it copied",
      ),
    );
  }
  if (d.caps.copyClusterFiles) {
    out.push(
      n.crondRunning
        ? pass('crond', 'crond runs')
        : fail(
            'crond',
            'crond is not running on the new host',
            'start it (systemctl enable --now crond): the cluster scripts run from cron',
          ),
      n.firewall === 'active'
        ? warn('firewall', 'firewalld is active', `open ${n.sqlPort}/tcp or stop it, as the write-up does`)
        : pass('firewall', `firewalld ${n.firewall ?? 'not found'}`),
      n.selinux === 'Enforcing'
        ? warn('selinux', 'SELinux is enforcing', 'set it to permissive, as the write-up does')
        : pass('selinux', `SELinux ${n.selinux ?? 'absent'}`),
    );
  }
  return out;
}

function membershipChecks(s: AddNodeSnapshot, params: AddNodeParams): PreflightCheck[] {
  const n = s.newHost;
  const found: string[] = [];
  for (const node of s.nodes)
    if (node.host === n.host) found.push(`node ${n.host} is already inventory node ${node.name}`);
  for (const m of s.managers) {
    for (const b of m.backends)
      if (b.hostname === n.host)
        found.push(`node ${n.host} already in ${m.configFile} as backend ${b.index}`);
  }
  for (const node of s.nodes) {
    if (node.haModule?.allIps.includes(n.host)) found.push(`${n.host} already in KB_ALL_IP on ${node.name}`);
  }
  const out = [
    found.length === 0
      ? pass('not-a-member', `${n.host} is not yet a node, backend or KB_ALL_IP member`)
      : fail(
          'not-a-member',
          found.join('; '),
          'it is already part of the cluster: nothing to add (or remove it first)',
        ),
  ];
  const clashes: string[] = [];
  if (s.nodes.some((x) => x.name === n.name)) clashes.push(`node name ${n.name} is taken`);
  if (s.primary?.slots.some((x) => x.name === `slot_${n.name}`)) clashes.push(`slot slot_${n.name} exists`);
  if (s.primary?.replication.some((r) => r.applicationName === n.name))
    clashes.push(`application_name ${n.name} already streams`);
  out.push(
    clashes.length === 0
      ? pass('names-unused', `slot slot_${n.name} and application_name ${n.name} are free`)
      : fail(
          'names-unused',
          clashes.join('; '),
          `pick another name with --name (now ${n.name}); two standbys may not share an application_name`,
        ),
  );
  void params;
  return out;
}

export function preflightAddNode(s: AddNodeSnapshot, params: AddNodeParams, d: Dialect): PreflightCheck[] {
  return [
    ...clusterChecks(s),
    ...primaryChecks(s, d),
    ...newHostChecks(s, params, d),
    ...membershipChecks(s, params),
  ];
}

export const preflightPassed = (checks: readonly PreflightCheck[]): boolean =>
  checks.every((c) => c.status !== 'fail');

export function renderPreflight(checks: readonly PreflightCheck[]): string {
  const mark = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL' } as const;
  return checks
    .map(
      (c) =>
        `${mark[c.status]} ${c.name}: ${c.message}${c.hint && c.status !== 'pass' ? `\n       → ${c.hint}` : ''}`,
    )
    .join('\n');
}
