import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { quote } from '../src/shell/shell-command';
import type { LabHost, LabLayout } from './lab-layout';

// The text of every file the lab writes. Pure functions of the layout (and a password where a
// file must hold one), so they are easy to read and to test.

export function sshdConfig(lab: LabLayout, host: LabHost): string {
  return [
    `# sshd of lab host ${host.name}; started by \`npm run lab -- up\``,
    `ListenAddress ${host.address}:${lab.sshPort}`,
    `HostKey ${host.sshdDir}/ssh_host_ed25519_key`,
    `PidFile ${host.sshdDir}/sshd.pid`,
    `AuthorizedKeysFile ${lab.ssh.authorizedKeys}`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    // No PAM here: the account is unlocked by a `*` password field instead (see lab README).
    'UsePAM no',
    // authorized_keys is root-owned and written by the lab; a lab under /tmp must still work.
    'StrictModes no',
    `AllowUsers ${lab.osUser}`,
    // All hosts share one filesystem; this is how a session knows which "host" it is on.
    `SetEnv KBOPS_LAB_HOST=${host.name} KBOPS_LAB_ADDRESS=${host.address}`,
    'MaxStartups 64:30:128',
    'MaxSessions 64',
    'Subsystem sftp internal-sftp',
    '',
  ].join('\n');
}

export function postgresqlConf(lab: LabLayout, host: LabHost): string {
  return [
    '# kbops lab settings',
    `listen_addresses = '${host.address}'`,
    `port = ${lab.sqlPort}`,
    // No Unix socket: every host uses port 54321, so sockets in one shared directory would collide.
    "unix_socket_directories = ''",
    'max_connections = 100',
    'shared_buffers = 32MB',
    'wal_level = replica',
    'max_wal_senders = 10',
    'max_replication_slots = 10',
    'wal_keep_size = 256MB',
    'hot_standby = on',
    'hot_standby_feedback = on',
    'wal_log_hints = on',
    "password_encryption = 'scram-sha-256'",
    'logging_collector = on',
    "log_directory = 'sys_log'",
    "log_line_prefix = '%m [%p] %q%u@%d '",
    '',
  ].join('\n');
}

export function pgHbaConf(lab: LabLayout): string {
  const data = lab.hosts.slice(0, 2);
  return [
    '# TYPE  DATABASE     USER    ADDRESS          METHOD',
    'local   all          all                      scram-sha-256',
    // Every loopback connection comes from 127.0.0.1 whatever address it targets.
    'host    all          all     127.0.0.1/32     scram-sha-256',
    ...data.map((h) => `host    all          ${lab.dbUser}  ${h.address}/32   scram-sha-256`),
    `host    replication  ${lab.dbUser}  127.0.0.1/32     scram-sha-256`,
    ...data.map((h) => `host    replication  ${lab.dbUser}  ${h.address}/32   scram-sha-256`),
    '',
  ].join('\n');
}

export function standbySettings(lab: LabLayout, primary: LabHost, standby: LabHost): string {
  const conninfo = [
    `host=${primary.address}`,
    `port=${lab.sqlPort}`,
    `user=${lab.dbUser}`,
    `passfile=${lab.secrets.pgpass}`,
    `application_name=${standby.name}`,
  ].join(' ');
  return [`primary_conninfo = '${conninfo}'`, `primary_slot_name = '${standby.slot}'`, ''].join('\n');
}

/** V8R3 keeps cluster membership in db/etc/HAmodule.conf, a shell file of arrays. */
export function haModuleConf(lab: LabLayout, host: LabHost): string {
  const members = lab.hosts.slice(0, 2).map((h) => h.address);
  return [
    '# HAmodule.conf (shape of KingbaseES V8R3)',
    `KB_CLUSTER_NAME="${lab.clusterName}"`,
    `KB_ALL_IP=(${members.join(' ')})`,
    `KB_LOCALHOST_IP="${host.address}"`,
    `KB_PATH="${host.binDir}"`,
    `KB_DATA_PATH="${host.dataDir}"`,
    `KB_PORT="${lab.sqlPort}"`,
    '',
  ].join('\n');
}

export const pgpassLine = (lab: LabLayout, password: string): string =>
  `*:*:*:${lab.dbUser}:${password.replace(/\\/g, '\\\\').replace(/:/g, '\\:')}\n`;

export function pgpoolConf(lab: LabLayout): string {
  const p = lab.pool;
  const backends = lab.hosts
    .slice(0, 2)
    .flatMap((h, i) => [
      `backend_hostname${i} = '${h.address}'`,
      `backend_port${i} = ${lab.sqlPort}`,
      `backend_weight${i} = 1`,
      `backend_data_directory${i} = '${h.dataDir}'`,
      `backend_flag${i} = 'ALLOW_TO_FAILOVER'`,
      `backend_application_name${i} = '${h.name}'`,
    ]);
  return [
    '# pgpool-II 4.3 of the kbops lab (kingbasecluster stand-in)',
    "backend_clustering_mode = 'streaming_replication'",
    `listen_addresses = '${lab.poolAddress}'`,
    `port = ${p.sqlPort}`,
    `socket_dir = '${p.runDir}'`,
    `pcp_listen_addresses = '${lab.poolAddress}'`,
    `pcp_port = ${p.pcpPort}`,
    `pcp_socket_dir = '${p.runDir}'`,
    `pid_file_name = '${p.pidFile}'`,
    `logdir = '${p.runDir}'`,
    "log_destination = 'stderr'",
    'num_init_children = 16',
    'max_pool = 2',
    'load_balance_mode = on',
    'enable_pool_hba = on',
    `pool_passwd = '${p.passwd}'`,
    'sr_check_period = 2',
    `sr_check_user = '${lab.dbUser}'`,
    "sr_check_password = ''",
    "sr_check_database = 'postgres'",
    'health_check_period = 1',
    'health_check_timeout = 5',
    `health_check_user = '${lab.dbUser}'`,
    "health_check_password = ''",
    "health_check_database = 'postgres'",
    'health_check_max_retries = 0',
    `failover_command = '${p.failoverScript} %d %h %m %H %P %R'`,
    'failover_on_backend_error = on',
    'search_primary_node_timeout = 10',
    ...backends,
    '',
  ].join('\n');
}

export const poolHbaConf = (): string =>
  ['local all all scram-sha-256', 'host all all 127.0.0.1/32 scram-sha-256', ''].join('\n');

// pgpool accepts a clear-text pool_passwd entry behind the TEXT prefix; it needs the clear
// password to speak SCRAM to the backends for its clients.
export const poolPasswd = (lab: LabLayout, password: string): string => `${lab.dbUser}:TEXT${password}\n`;

export const pcpConf = (lab: LabLayout, password: string): string =>
  `${lab.dbUser}:${createHash('md5').update(password).digest('hex')}\n`;

export const pcpPass = (lab: LabLayout, password: string): string =>
  `${lab.poolAddress}:${lab.pool.pcpPort}:${lab.dbUser}:${password}\n`;

/**
 * pgpool's failover_command: when the primary fails, promote the new main node over SSH, as
 * kingbasecluster's scripts do. Arguments: %d %h %m %H %P %R.
 */
export function failoverScript(lab: LabLayout): string {
  const pgCtl = `${lab.hosts[0].binDir}/pg_ctl`;
  return [
    '#!/bin/sh',
    '# Written by `npm run lab -- up`. Promotes the new main node when the primary fails.',
    'set -u',
    'failed_id=$1; failed_host=$2; new_main_id=$3; new_main_host=$4; old_primary_id=$5; new_main_dir=$6',
    `log=${quote(lab.pool.failoverLog)}`,
    'echo "$(date -Is) failed=$failed_id($failed_host) old_primary=$old_primary_id new_main=$new_main_id($new_main_host)" >>"$log"',
    '# A failed standby is only detached; a primary failure needs a promotion.',
    '[ "$failed_id" = "$old_primary_id" ] || exit 0',
    '[ "$new_main_id" -ge 0 ] 2>/dev/null || { echo "no live node to promote" >>"$log"; exit 0; }',
    `exec ssh -i ${quote(lab.ssh.peerKey)} -p ${lab.sshPort} -o BatchMode=yes -o StrictHostKeyChecking=yes \\`,
    `  -o UserKnownHostsFile=${quote(lab.ssh.knownHosts)} -o ConnectTimeout=5 \\`,
    `  ${lab.osUser}@"$new_main_host" ${quote(pgCtl)} promote -w -D "$new_main_dir" >>"$log" 2>&1`,
    '',
  ].join('\n');
}

/** The kbops inventory describing this lab, so the bot and the tests find it like any cluster. */
export function labInventory(lab: LabLayout): string {
  const data = lab.hosts.slice(0, 2);
  const doc = {
    clusters: {
      lab: {
        dialect: 'postgresql',
        // Each lab host has its own tree on the shared filesystem: {name} is the node name.
        clusterPath: join(lab.root, 'hosts', '{name}', 'cluster', lab.clusterName),
        sqlPort: lab.sqlPort,
        ssh: {
          user: lab.osUser,
          port: lab.sshPort,
          privateKeyFile: lab.ssh.clientKey,
          knownHostsFile: lab.ssh.knownHosts,
        },
        db: { user: lab.dbUser, database: lab.database, password: { file: lab.secrets.password } },
        nodes: data.map((h) => ({ name: h.name, host: h.address })),
        manager: {
          kind: 'pgpool',
          nodes: [
            {
              node: lab.hosts[0].name,
              host: lab.poolAddress,
              sqlPort: lab.pool.sqlPort,
              pcpPort: lab.pool.pcpPort,
              configFile: lab.pool.conf,
              logFile: lab.pool.logFile,
            },
          ],
        },
        // The lab's make-believe team, for the console and the Slack tests.
        access: {
          requesters: { users: ['UALICE', 'UBOB'] },
          approvers: { users: ['UBOB', 'UCAROL'] },
          admins: { users: ['UCAROL'] },
          approvals: 1,
          approvalTtlMinutes: 60,
          autoRollback: true,
        },
        allowUnattendedCli: true,
      },
    },
  };
  return `# Written by \`npm run lab -- up\`: the lab as a kbops cluster. Host ${lab.hosts[2].address} (${lab.hosts[2].name}) is the node to add.\n${stringify(doc)}`;
}
