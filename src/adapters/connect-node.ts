import { readFile } from 'node:fs/promises';
import type { ClusterConfig } from '../config/normalise-inventory';
import { resolveSecret, type Env } from '../config/resolve-secret';
import { PgSqlClient } from './pg-sql-client';
import { SshRemoteShell, type SshLogger } from './ssh-remote-shell';

// Opening real connections to a cluster's hosts from the inventory: key, pinned host keys and
// passwords are read here, at the last moment, and never leave the adapter.

export interface ShellTarget {
  readonly host: string;
  readonly sshPort: number;
  /** Extra pinned fingerprints for this host, on top of the cluster's known_hosts. */
  readonly hostKeys?: readonly string[];
}

export interface SqlTarget {
  readonly host: string;
  readonly port: number;
  readonly database?: string;
}

async function secret(ref: Parameters<typeof resolveSecret>[0], env: Env, what: string): Promise<string> {
  const r = await resolveSecret(ref, { env });
  if (!r.ok) throw new Error(`${what}: ${r.message}`);
  return r.value;
}

export async function connectShell(
  cluster: ClusterConfig,
  target: ShellTarget,
  env: Env,
  logger?: SshLogger,
): Promise<SshRemoteShell> {
  const [privateKey, knownHosts, passphrase] = await Promise.all([
    readFile(cluster.ssh.privateKeyFile),
    cluster.ssh.knownHostsFile ? readFile(cluster.ssh.knownHostsFile, 'utf8') : undefined,
    cluster.ssh.passphrase ? secret(cluster.ssh.passphrase, env, 'SSH key passphrase') : undefined,
  ]);
  return SshRemoteShell.connect({
    host: target.host,
    port: target.sshPort,
    username: cluster.ssh.user,
    privateKey,
    ...(passphrase !== undefined && { passphrase }),
    ...(knownHosts !== undefined && { knownHosts }),
    ...(target.hostKeys && target.hostKeys.length > 0 && { fingerprints: target.hostKeys }),
    ...(logger && { logger }),
  });
}

export async function connectSql(cluster: ClusterConfig, target: SqlTarget, env: Env): Promise<PgSqlClient> {
  return PgSqlClient.connect({
    host: target.host,
    port: target.port,
    user: cluster.db.user,
    database: target.database ?? cluster.db.database,
    password: await secret(cluster.db.password, env, `password of ${cluster.db.user}`),
  });
}
