import type { RunStore } from '../../../src/ports/run-store';
import { migrate } from '../../../src/store/migrations';
import { PgliteDb } from '../../../src/store/pglite-db';
import { SqlRunStore } from '../../../src/store/sql-run-store';

/** The real run store on an in-memory embedded PostgreSQL: no mock of the part under test. */
export async function memoryRunStore(): Promise<RunStore> {
  const db = await PgliteDb.open();
  await migrate(db);
  return new SqlRunStore(db);
}
