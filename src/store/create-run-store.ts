import type { RunStore } from '../ports/run-store';
import type { Db } from './db';
import { migrate } from './migrations';
import { PgDb } from './pg-db';
import { PgliteDb } from './pglite-db';
import { SqlRunStore } from './sql-run-store';

export interface RunStoreOptions {
  /** A PostgreSQL URL: the store shared by every replica. */
  readonly databaseUrl?: string;
  /** Without a URL: embedded PGlite in this directory (one process only). */
  readonly dataDir?: string;
}

export const DEFAULT_DATA_DIR = './.kbops-state';

/** The run store the configuration asks for, its schema brought up to date. */
export async function createRunStore(options: RunStoreOptions = {}): Promise<RunStore> {
  const db: Db = options.databaseUrl
    ? PgDb.open(options.databaseUrl)
    : await PgliteDb.open(options.dataDir ?? DEFAULT_DATA_DIR);
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return new SqlRunStore(db);
}
