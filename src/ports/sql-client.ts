export interface SqlResult<R> {
  readonly rows: R[];
  /** Column names as the server sent them (V8R3 may send them upper-case). */
  readonly columns: string[];
  readonly rowCount: number;
}

export interface SqlOptions {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}

/** One connection to one database node. Parameters are always bound, never interpolated. */
export interface SqlClient {
  readonly target: string;
  query<R extends Record<string, unknown> = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: SqlOptions,
  ): Promise<SqlResult<R>>;
  close(): Promise<void>;
}
