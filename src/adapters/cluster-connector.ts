import type { ClusterConfig } from '../config/normalise-inventory';
import { resolveSecret, type Env } from '../config/resolve-secret';
import type { SecretName, Target } from '../core/plan';
import type { Connector } from '../ports/connector';
import type { FileStore } from '../ports/file-store';
import type { RemoteShell } from '../ports/remote-shell';
import type { SqlClient } from '../ports/sql-client';
import { connectShell, connectSql, type ShellTarget } from './connect-node';
import type { PgSqlClient } from './pg-sql-client';
import { RemoteFileStore } from './remote-file-store';

/** A login that says when its connection is gone (SshRemoteShell does). */
export type CachedShell = RemoteShell & { readonly closed: boolean; onClosed(cb: () => void): void };
export type ShellOpener = (
  cluster: ClusterConfig,
  target: ShellTarget,
  env: Env,
  options?: { readonly signal?: AbortSignal },
) => Promise<CachedShell>;

/**
 * Real connections to a cluster's targets, opened on first use and shared for one run. A connection
 * that closes or fails leaves the cache at once, so the next use (an undo after a cut, say) logs in anew.
 * close() also stops every connect still in progress (a host that accepts and never answers), so it
 * neither waits for their own timeouts nor leaves their sockets keeping the process alive.
 */
export class ClusterConnector implements Connector {
  private readonly shells = new Map<string, Promise<CachedShell>>();
  private readonly sqls = new Map<string, Promise<PgSqlClient>>();
  private readonly connecting = new Set<AbortController>();

  constructor(
    private readonly cluster: ClusterConfig,
    private readonly env: Env,
    private readonly openShell: ShellOpener = connectShell,
  ) {}

  async shell(target: Target): Promise<RemoteShell> {
    const key = `${target.host}:${target.sshPort}`;
    const cached = this.shells.get(key);
    // Closed but not yet evicted (its close event is still queued): do not hand it out.
    const s = cached ? await cached.catch(() => undefined) : undefined;
    if (s && !s.closed) return s;
    if (this.shells.get(key) !== cached) return this.shell(target); // someone else reconnected meanwhile
    const opening = this.stoppable((signal) =>
      this.openShell(this.cluster, { host: target.host, sshPort: target.sshPort }, this.env, { signal }),
    );
    this.shells.set(key, opening);
    const evict = (): void => {
      if (this.shells.get(key) === opening) this.shells.delete(key);
    };
    opening.then((shell) => shell.onClosed(evict), evict); // a failed connect may be retried too
    return opening;
  }

  sql(target: Target, database?: string): Promise<SqlClient> {
    const db = database ?? target.database ?? this.cluster.db.database;
    const host = target.sqlHost ?? target.host;
    const key = `${host}:${target.sqlPort}/${db}`;
    let c = this.sqls.get(key);
    if (c) {
      // Replace a connection the server has closed, once it is known to be dead.
      const stale = c;
      c = stale.then((client) => (client.usable ? client : this.reconnect(key, host, target.sqlPort, db)));
      this.sqls.set(key, c);
    } else {
      c = this.stoppable((signal) =>
        connectSql(this.cluster, { host, port: target.sqlPort, database: db }, this.env, { signal }),
      );
      c.catch(() => this.sqls.delete(key));
      this.sqls.set(key, c);
    }
    return c;
  }

  private reconnect(key: string, host: string, port: number, database: string): Promise<PgSqlClient> {
    const c = this.stoppable((signal) =>
      connectSql(this.cluster, { host, port, database }, this.env, { signal }),
    );
    c.catch(() => this.sqls.delete(key));
    return c;
  }

  /** A connect close() can stop while it is in progress. */
  private stoppable<T>(open: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.connecting.add(controller);
    const done = (): void => void this.connecting.delete(controller);
    const p = open(controller.signal);
    p.then(done, done);
    return p;
  }

  async files(target: Target): Promise<FileStore> {
    return new RemoteFileStore(await this.shell(target));
  }

  async secret(name: SecretName): Promise<string> {
    const ref =
      name === 'db.password'
        ? this.cluster.db.password
        : (this.cluster.manager?.pcpPassword ?? this.cluster.db.password);
    const r = await resolveSecret(ref, { env: this.env });
    if (!r.ok) throw new Error(`secret ${name}: ${r.message}`);
    return r.value;
  }

  async close(): Promise<void> {
    const all = [...this.shells.values(), ...this.sqls.values()];
    this.shells.clear();
    this.sqls.clear();
    for (const c of this.connecting) c.abort(new Error('the connector was closed'));
    this.connecting.clear();
    await Promise.all(all.map((p) => p.then((c) => c.close()).catch(() => undefined)));
  }
}
