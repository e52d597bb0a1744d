import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { defaultStateDir } from '../config/read-env-options';
import type { Env } from '../config/resolve-secret';
import type { StateStore } from '../ports/report-store';
import type { Db, Queryable } from './db';
import { migrate } from './migrations';
import { PgDb } from './pg-db';
import { PgliteDb } from './pglite-db';
import { SqlReportStore } from './sql-report-store';
import { SqlRunStore } from './sql-run-store';
import { acquireStateDirLock, type StateDirLock } from './state-dir-lock';

export interface RunStoreOptions {
  /** A PostgreSQL URL: the store shared by every replica. */
  readonly databaseUrl?: string;
  /** Without a URL: embedded PGlite in this directory (one process only; default: defaultStateDir(env)). */
  readonly dataDir?: string;
  /** Where the default directory is looked up (XDG_STATE_HOME, HOME); default process.env. */
  readonly env?: Env;
  /** Named in the embedded store's lock, so a refused second process can tell who holds it. */
  readonly instanceId?: string;
}

/**
 * The state store the configuration asks for (runs, and reports over the same database), its schema
 * brought up to date. The embedded store is locked to this process until close(): a second process
 * is refused (StateDirLockedError).
 */
export async function createRunStore(options: RunStoreOptions = {}): Promise<StateStore> {
  let lock: StateDirLock | undefined;
  let db: Db;
  if (options.databaseUrl) {
    db = PgDb.open(options.databaseUrl);
  } else {
    const dir = options.dataDir ?? defaultStateDir(options.env ?? process.env);
    lock = acquireStateDirLock(
      dir,
      options.instanceId !== undefined ? { instanceId: options.instanceId } : {},
    );
    try {
      db = unlockingOnClose(await PgliteDb.open(await embeddedDataDir(dir)), lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }
  try {
    await migrate(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return stateStore(db);
}

/** Runs and reports on one Db: the run store's close() closes it for both. */
export const stateStore = (db: Db): SqlRunStore & StateStore =>
  Object.assign(new SqlRunStore(db), { reports: new SqlReportStore(db) });

/**
 * Where PGlite keeps its files: `<state dir>/pgdata`, made whole or not at all. PGlite's first start
 * unpacks a fresh cluster file by file; a kill -9 in the middle would leave a directory it takes for
 * a database and can never open. So a new one is made aside and renamed into place once complete.
 * A state dir from before (PG_VERSION at its top) is used as it is.
 */
async function embeddedDataDir(stateDir: string): Promise<string> {
  if (existsSync(join(stateDir, 'PG_VERSION'))) return stateDir;
  const dir = join(stateDir, 'pgdata');
  if (existsSync(dir)) return dir;
  // Leftovers of a first start that was killed: made by kbops (this name), in the dir it holds now.
  for (const name of readdirSync(stateDir)) {
    if (/^\.pgdata\.init-[0-9a-f]{16}$/.test(name))
      rmSync(join(stateDir, name), { recursive: true, force: true });
  }
  const init = join(stateDir, `.pgdata.init-${randomBytes(8).toString('hex')}`);
  await (await PgliteDb.open(init)).close();
  renameSync(init, dir);
  return dir;
}

/** The lock outlives the database by nothing: released once PGlite has closed its files. */
function unlockingOnClose(db: Db, lock: StateDirLock): Db {
  return {
    query<R>(sql: string, params?: readonly unknown[]) {
      return db.query<R>(sql, params);
    },
    exec: (script) => db.exec(script),
    transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      return db.transaction(fn);
    },
    async close() {
      try {
        await db.close();
      } finally {
        lock.release();
      }
    },
  };
}
