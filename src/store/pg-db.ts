import { Pool, type PoolClient, type PoolConfig } from 'pg';
import type { Db, Queryable } from './db';

const clientQueryable = (client: PoolClient): Queryable => ({
  async query<R>(sql: string, params: readonly unknown[] = []) {
    const r = await client.query({ text: sql, values: [...params] });
    return { rows: r.rows as R[] };
  },
  async exec(script: string) {
    await client.query(script); // no parameters: the simple protocol, which allows several statements
  },
});

/** Db over a node-postgres pool: each transaction holds one pooled connection from BEGIN to COMMIT. */
export class PgDb implements Db {
  private constructor(private readonly pool: Pool) {}

  static open(connectionString: string, options: Omit<PoolConfig, 'connectionString'> = {}): PgDb {
    const pool = new Pool({ application_name: 'kbops', max: 5, ...options, connectionString });
    // A pooled connection the server drops while idle must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    return new PgDb(pool);
  }

  async query<R = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<{ rows: R[] }> {
    const r = await this.pool.query({ text: sql, values: [...params] });
    return { rows: r.rows as R[] };
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // Checked out, the pool no longer listens for this client's errors: a server that goes away
    // mid-transaction must fail the transaction, not crash the process.
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(clientQueryable(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => {
          broken = rollbackErr; // the connection is in an unknown state: do not hand it out again
        });
        throw err;
      }
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
