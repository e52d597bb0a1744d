import { readFile } from 'node:fs/promises';
import type { ClusterConfig } from '../config/normalise-inventory';
import { resolveSecret, type Env } from '../config/resolve-secret';
import { revocationsOnly } from './host-key-verifier';
import { PgSqlClient } from './pg-sql-client';
import { SshRemoteShell, type SshLogger } from './ssh-remote-shell';

// Opening real connections to a cluster's hosts from the inventory: key, pinned host keys and
// passwords are read here, at the last moment, and never leave the adapter.

export interface ShellTarget {
  readonly host: string;
  readonly sshPort: number;
  /**
   * Pinned fingerprints for this host. With these, or the inventory's `hostKeys` of the node at this
   * host and port, only they are accepted: known_hosts then counts only for @revoked keys.
   */
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

/**
 * The fingerprints pinned for the host a shell goes to: the target's own and those of every
 * inventory node at that host and SSH port. Plans carry no pins (their targets are public and
 * hashed); they are looked up here, so a pin edited in the inventory takes effect at once.
 */
export function hostKeyPinsFor(cluster: ClusterConfig, target: ShellTarget): string[] {
  const fromNodes = cluster.nodes
    .filter((n) => n.host.toLowerCase() === target.host.toLowerCase() && n.sshPort === target.sshPort)
    .flatMap((n) => n.hostKeys);
  return [...new Set([...(target.hostKeys ?? []), ...fromNodes])];
}

export interface ConnectOptions {
  readonly logger?: SshLogger;
  /** Stops the connect in progress (its socket destroyed) when aborted. */
  readonly signal?: AbortSignal;
}

export async function connectShell(
  cluster: ClusterConfig,
  target: ShellTarget,
  env: Env,
  { logger, signal }: ConnectOptions = {},
): Promise<SshRemoteShell> {
  const [privateKey, knownHostsFile, passphrase] = await Promise.all([
    readFile(cluster.ssh.privateKeyFile),
    cluster.ssh.knownHostsFile ? readFile(cluster.ssh.knownHostsFile, 'utf8') : undefined,
    cluster.ssh.passphrase ? secret(cluster.ssh.passphrase, env, 'SSH key passphrase') : undefined,
  ]);
  const pins = hostKeyPinsFor(cluster, target);
  const knownHosts =
    knownHostsFile !== undefined && pins.length > 0 ? revocationsOnly(knownHostsFile) : knownHostsFile;
  return SshRemoteShell.connect({
    host: target.host,
    port: target.sshPort,
    username: cluster.ssh.user,
    privateKey,
    ...(passphrase !== undefined && { passphrase }),
    ...(knownHosts !== undefined && { knownHosts }),
    ...(pins.length > 0 && { fingerprints: pins }),
    ...(logger && { logger }),
    ...(signal && { signal }),
  });
}

export async function connectSql(
  cluster: ClusterConfig,
  target: SqlTarget,
  env: Env,
  { signal }: Pick<ConnectOptions, 'signal'> = {},
): Promise<PgSqlClient> {
  const { mode, caFile } = cluster.db.tls;
  const [password, ca] = await Promise.all([
    secret(cluster.db.password, env, `password of ${cluster.db.user}`),
    caFile ? readFile(caFile, 'utf8') : undefined,
  ]);
  return PgSqlClient.connect({
    host: target.host,
    port: target.port,
    user: cluster.db.user,
    database: target.database ?? cluster.db.database,
    password,
    tls: { mode, ...(ca !== undefined && { ca }) },
    ...(signal && { signal }),
  });
}
