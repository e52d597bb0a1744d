import type { ConnectionOptions } from 'node:tls';
import { Client } from 'pg';
import type { SqlClient, SqlOptions, SqlResult } from '../ports/sql-client';

/** As libpq's sslmode; `prefer` tries TLS and falls back to a plain connection only if the server has none. */
export type PgTlsMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';

export interface PgTls {
  readonly mode: PgTlsMode;
  /** PEM of the CA(s) to verify the server with: needed by verify-ca/verify-full; makes require verify too. */
  readonly ca?: string | Buffer;
}

export interface PgConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password: string;
  readonly connectTimeoutMs?: number;
  /** Aborting stops a connect in progress at once (its socket destroyed), e.g. a server that never answers. */
  readonly signal?: AbortSignal;
  readonly applicationName?: string;
  /** Default: prefer. */
  readonly tls?: PgTls;
}

/** The server asked for the password in clear text over a connection without TLS: it was not sent. */
export class CleartextPasswordRefused extends Error {
  override readonly name = 'CleartextPasswordRefused';
  readonly code = 'cleartext-password-refused';
  constructor(target: string) {
    super(
      `${target}: the server asked for the password in clear text; set the server to scram-sha-256/md5 ` +
        `or require TLS (db.tls.mode: require, verify-ca or verify-full)`,
    );
  }
}

const NO_SERVER_TLS = 'The server does not support SSL connections';

function sslFor(tls: PgTls): false | ConnectionOptions {
  const ca = tls.ca;
  switch (tls.mode) {
    case 'disable':
      return false;
    case 'prefer':
      return { rejectUnauthorized: false };
    case 'require':
      // As libpq: with a CA given, require checks the chain (not the name), as verify-ca does.
      return ca === undefined
        ? { rejectUnauthorized: false }
        : { ca, rejectUnauthorized: true, checkServerIdentity: () => undefined };
    case 'verify-ca':
      return {
        ...(ca !== undefined && { ca }),
        rejectUnauthorized: true,
        checkServerIdentity: () => undefined,
      };
    case 'verify-full':
      // Node checks the certificate's names (DNS or IP SANs) against the host.
      return { ...(ca !== undefined && { ca }), rejectUnauthorized: true };
  }
}

/** SqlClient over one node-postgres connection. Works for PostgreSQL, KingbaseES and pgpool. */
export class PgSqlClient implements SqlClient {
  private broken = false;
  /** Settles when the last query asked for has finished: the next waits for it. */
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: Client,
    readonly target: string,
  ) {
    // A pool restarting its children (pgpool does on attach) ends connections: say so, so callers reconnect.
    client.on('error', () => (this.broken = true));
    client.on('end', () => (this.broken = true));
  }

  /** False once the server closed the connection or it failed. */
  get usable(): boolean {
    return !this.broken;
  }

  static async connect(options: PgConnectOptions): Promise<PgSqlClient> {
    const tls = options.tls ?? { mode: 'prefer' };
    if (tls.mode !== 'prefer') return PgSqlClient.open(options, sslFor(tls));
    try {
      return await PgSqlClient.open(options, sslFor(tls));
    } catch (err) {
      // Only a server without TLS gets a second, plain attempt; any other failure stands.
      if ((err as Error).message !== NO_SERVER_TLS || options.signal?.aborted) throw err;
      return PgSqlClient.open(options, false);
    }
  }

  private static async open(options: PgConnectOptions, ssl: false | ConnectionOptions): Promise<PgSqlClient> {
    const target = `${options.user}@${options.host}:${options.port}/${options.database}`;
    let cleartextAsked = false;
    const client: Client = new Client({
      host: options.host,
      port: options.port,
      user: options.user,
      database: options.database,
      // node-pg asks this for every password exchange; the listener below runs first and tells a
      // cleartext request apart. Cleartext inside TLS is allowed (libpq does too): only verify-full
      // also proves who receives it.
      password: () => {
        if (cleartextAsked && !encrypted(client)) {
          socketOf(client)?.destroy();
          throw new CleartextPasswordRefused(target);
        }
        return options.password;
      },
      ssl,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      application_name: options.applicationName ?? 'kbops',
    });
    (client.connection as unknown as NodeJS.EventEmitter).on(
      'authenticationCleartextPassword',
      () => (cleartextAsked = true),
    );
    // An idle connection that the server drops must not crash the process (see `usable`).
    client.on('error', () => undefined);
    const { signal } = options;
    // Destroying the socket makes node-pg fail the connect now rather than at its own timeout.
    const onAbort = (): void => socketOf(client)?.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      signal?.throwIfAborted();
      await client.connect();
    } catch (err) {
      socketOf(client)?.destroy();
      if (signal?.aborted) throw connectAborted(target, signal.reason);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return new PgSqlClient(client, target);
  }

  /** True when the connection runs over TLS. */
  get encrypted(): boolean {
    return encrypted(this.client);
  }

  /**
   * One query at a time, in call order: callers that share a connection (a health report's clusters
   * on one server) wait their turn here, not in pg's queue (deprecated), so an abort cancels only
   * its own query: one still waiting just leaves the line, one running is cancelled on the server.
   */
  async query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options: SqlOptions = {},
  ): Promise<SqlResult<R>> {
    options.signal?.throwIfAborted();
    const previous = this.tail;
    let done!: () => void;
    const mine = new Promise<void>((resolve) => (done = resolve));
    this.tail = previous.then(() => mine);
    try {
      await untilTurn(previous, options.signal, this.target);
      return await this.run<R>(sql, params, options);
    } finally {
      done();
    }
  }

  private async run<R extends Record<string, unknown>>(
    sql: string,
    params: readonly unknown[],
    options: SqlOptions,
  ): Promise<SqlResult<R>> {
    options.signal?.throwIfAborted();
    let stopped: Error | undefined;
    const stop = (err: Error) => {
      stopped ??= err;
      this.cancelRunning();
    };
    const onAbort = () =>
      stop(Object.assign(new Error(`query on ${this.target} aborted`), { name: 'AbortError' }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () =>
              stop(
                Object.assign(new Error(`query on ${this.target} timed out after ${options.timeoutMs} ms`), {
                  name: 'TimeoutError',
                }),
              ),
            options.timeoutMs,
          );
    try {
      const r = await this.client.query<R>({ text: sql, values: [...params] });
      return {
        rows: r.rows,
        columns: (r.fields ?? []).map((f) => f.name),
        rowCount: r.rowCount ?? r.rows.length,
      };
    } catch (err) {
      throw stopped ?? err;
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** A protocol-level CancelRequest: no SQL function needed, so it works on every dialect and via pgpool. */
  private cancelRunning(): void {
    // What pg's own Client#cancel does, without its deprecated activeQuery getter (a warning per process).
    const c = this.client as unknown as {
      _getActiveQuery?: () => unknown;
      host: string;
      port: number;
      processID: number;
      secretKey: number;
    };
    if (!c._getActiveQuery?.()) return;
    const con = (new Client({ host: c.host, port: c.port }) as unknown as { connection: CancelConnection })
      .connection;
    con.on('error', () => undefined);
    con.on('connect', () => con.cancel(c.processID, c.secretKey));
    if (c.host.startsWith('/')) con.connect(`${c.host}/.s.PGSQL.${c.port}`);
    else con.connect(c.port, c.host);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}

/** Resolves when `previous` has, or rejects (AbortError) as soon as `signal` fires. */
function untilTurn(previous: Promise<void>, signal: AbortSignal | undefined, target: string): Promise<void> {
  if (!signal) return previous;
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void =>
      reject(
        Object.assign(new Error(`query on ${target} aborted while waiting its turn`), { name: 'AbortError' }),
      );
    signal.addEventListener('abort', onAbort, { once: true });
    previous.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, reject);
  });
}

interface CancelConnection {
  connect(portOrPath: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
  on(event: string, cb: () => void): void;
}

function connectAborted(target: string, reason: unknown): Error {
  const why = reason instanceof Error ? reason.message : String(reason);
  return Object.assign(new Error(`connect to ${target} stopped: ${why}`, { cause: reason }), {
    name: 'AbortError',
  });
}

function socketOf(client: Client): { destroy(): void; encrypted?: boolean } | undefined {
  return (client.connection as unknown as { stream?: { destroy(): void; encrypted?: boolean } }).stream;
}

function encrypted(client: Client): boolean {
  return socketOf(client)?.encrypted === true;
}
