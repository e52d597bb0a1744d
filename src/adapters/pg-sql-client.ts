import { Client } from 'pg';
import type { SqlClient, SqlOptions, SqlResult } from '../ports/sql-client';

export interface PgConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly database: string;
  readonly password: string;
  readonly connectTimeoutMs?: number;
  readonly applicationName?: string;
}

/** SqlClient over one node-postgres connection. Works for PostgreSQL, KingbaseES and pgpool. */
export class PgSqlClient implements SqlClient {
  private broken = false;

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
    const client = new Client({
      host: options.host,
      port: options.port,
      user: options.user,
      database: options.database,
      password: options.password,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      application_name: options.applicationName ?? 'kbops',
    });
    // An idle connection that the server drops must not crash the process (see `usable`).
    client.on('error', () => undefined);
    await client.connect();
    return new PgSqlClient(client, `${options.user}@${options.host}:${options.port}/${options.database}`);
  }

  async query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
    options: SqlOptions = {},
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
    const c = this.client as unknown as { activeQuery?: unknown; host: string; port: number };
    if (!c.activeQuery) return;
    const side = new Client({ host: c.host, port: c.port }) as unknown as {
      cancel(client: unknown, query: unknown): void;
      connection: { on(event: string, cb: () => void): void };
    };
    side.connection.on('error', () => undefined);
    side.cancel(this.client, c.activeQuery);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
