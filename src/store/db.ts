/** What a transaction may do: query, never open another transaction or close the database. */
export interface Queryable {
  /** One statement; `$1`-style parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[] }>;
  /** A script of several statements, without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/**
 * The little the run store needs from a database, implemented over node-postgres (PgDb) and
 * embedded PGlite (PgliteDb). Both speak PostgreSQL, so the SQL is shared.
 */
export interface Db extends Queryable {
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. `tx` is
   * the only handle to use inside: on PGlite the outer Db waits for the transaction to end, so
   * querying it from within would never return.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
