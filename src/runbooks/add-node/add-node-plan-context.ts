import type { Target } from '../../core/plan';
import type { Dialect } from '../../dialects/dialect';
import type { AddNodeParams } from './add-node-params';
import type { AddNodeSnapshot } from './add-node-snapshot';

// What every part of the add-node planner works from.

/** Stands in the plan where the password goes; the executor writes the real one into the file. */
export const PASSWORD_TOKEN = '@@KBOPS_DB_PASSWORD@@';

export interface PlanContext {
  readonly params: AddNodeParams;
  readonly dialect: Dialect;
  readonly snapshot: AddNodeSnapshot;
  readonly requester: string;
  readonly now: Date;
}

export const targetOf = (n: { name: string; host: string; sshPort: number; sqlPort: number }): Target => ({
  name: n.name,
  host: n.host,
  sshPort: n.sshPort,
  sqlPort: n.sqlPort,
});
