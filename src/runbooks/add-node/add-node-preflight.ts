import { posix } from 'node:path';
import {
  nodesAnswerCheck,
  onePrimaryCheck,
  poolChecks,
  sshLoginCheck,
  standbysStreamingCheck,
} from '../../cluster/common-checks';
import { fail, pass, warn, type Check } from '../../core/check';
import type { Dialect } from '../../dialects/dialect';
import type { AddNodeParams } from './add-node-params';
import type { AddNodeSnapshot } from './add-node-snapshot';

// Every preflight check by name, each pass / warn / fail with a hint saying what to do. Pure: a
// function of the snapshot, so each scenario is a unit test and the same verdict shows everywhere.
// The cluster's own health is judged by the checks every runbook shares (src/cluster).

const GiB = 1024 ** 3;
const bytes = (n: number): string =>
  n >= GiB ? `${(n / GiB).toFixed(1)} GiB` : `${Math.round(n / 1024 ** 2)} MiB`;

function clusterChecks(s: AddNodeSnapshot): Check[] {
  return [
    nodesAnswerCheck(s.nodes, 'bring every node up before adding one'),
    onePrimaryCheck(s.nodes, 'the cluster must have exactly one primary: fix it before expanding'),
    standbysStreamingCheck(s.nodes, s.primary?.replication),
    ...poolChecks(s.managers, 'bring it back (pcp_attach_node) before adding a node'),
  ];
}

function primaryChecks(s: AddNodeSnapshot, d: Dialect): Check[] {
  const p = s.primary;
  if (!p) return [];
  const out: Check[] = [];
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

function newHostChecks(s: AddNodeSnapshot, params: AddNodeParams, d: Dialect): Check[] {
  const n = s.newHost;
  const login = sshLoginCheck('ssh-new-host', n, params.cluster.ssh.user, '--ssh-port');
  if (!n.reachable) return [login];
  const out: Check[] = [login];
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

function membershipChecks(s: AddNodeSnapshot, params: AddNodeParams): Check[] {
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

export function preflightAddNode(s: AddNodeSnapshot, params: AddNodeParams, d: Dialect): Check[] {
  return [
    ...clusterChecks(s),
    ...primaryChecks(s, d),
    ...newHostChecks(s, params, d),
    ...membershipChecks(s, params),
  ];
}
