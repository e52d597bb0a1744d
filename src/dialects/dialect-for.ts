import type { Dialect, DialectId } from './dialect';
import { kingbaseV8r3Dialect } from './kingbase-v8r3';
import { postgresqlDialect } from './postgresql';

/** The dialect of a cluster, by its inventory id. */
export function dialectFor(id: DialectId): Dialect {
  switch (id) {
    case 'kingbase-v8r3':
      return kingbaseV8r3Dialect;
    case 'postgresql':
      return postgresqlDialect;
  }
}
