import type * as Pglite from '@electric-sql/pglite';
import type { Db, Queryable } from './db';

// PGlite's CommonJS build calls import() inside, which jest's module sandbox refuses (it would need
// --experimental-vm-modules). Node's own require loads it outside any sandbox, in tests as in production.
const nodeRequire = process.getBuiltinModule('node:module').createRequire(__filename);
const { PGlite } = nodeRequire('@electric-sql/pglite') as typeof Pglite;

/**
 * Db over embedded PGlite: one PostgreSQL backend in this process, in `dataDir` or in memory.
 *
 * PGlite has a single connection. Its query(), exec() and transaction() all take the same internal
 * mutex, so a query issued while a transaction runs waits until that transaction ends: concurrent
 * callers are serialised, never interleaved inside each other's transactions.
 */
export class PgliteDb implements Db {
  private constructor(private readonly pg: Pglite.PGlite) {}

  static async open(dataDir?: string): Promise<PgliteDb> {
    return new PgliteDb(await PGlite.create(dataDir === undefined ? {} : { dataDir }));
  }

  async query<R = Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<{ rows: R[] }> {
    const r = await this.pg.query<R>(sql, [...params]);
    return { rows: r.rows };
  }

  async exec(script: string): Promise<void> {
    await this.pg.exec(script);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pg.transaction((tx) =>
      fn({
        async query<R>(sql: string, params: readonly unknown[] = []) {
          const r = await tx.query<R>(sql, [...params]);
          return { rows: r.rows };
        },
        async exec(script: string) {
          await tx.exec(script);
        },
      }),
    );
  }

  async close(): Promise<void> {
    await this.pg.close();
  }
}
