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

/** A failure-injection switch: while `down`, every store call fails (or, with `hang`, waits until up). */
export interface StoreOutage {
  down: boolean;
  hang: boolean;
  /** Calls refused or held while down. */
  readonly refused: string[];
}

/** `store` behind an outage switch, for tests of what a store outage does to the runs in hand. */
export function withOutage(store: RunStore): { store: RunStore; outage: StoreOutage } {
  const outage: StoreOutage = { down: false, hang: false, refused: [] };
  const waitUp = async (): Promise<void> => {
    while (outage.down) await new Promise((r) => setTimeout(r, 5));
  };
  const proxy = new Proxy(store, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || key === 'close') return value;
      return async (...args: unknown[]) => {
        if (outage.down) {
          outage.refused.push(String(key));
          if (!outage.hang) throw new Error(`store unreachable (${String(key)})`);
          await waitUp();
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, outage };
}
