import { posix } from 'node:path';
import { sha256Json } from '../../core/json';
import type { Dialect } from '../../dialects/dialect';
import { kbopsDirOf } from '../../cluster/node-paths';
import type { AddNodeParams } from './add-node-params';
import type { AddNodeSnapshot } from './add-node-snapshot';

// What every part of the add-node planner works from.

export { kbopsDirOf };

/** Stands in the plan where the password goes; the executor writes the real one into the file. */
export const PASSWORD_TOKEN = '@@KBOPS_DB_PASSWORD@@';

export interface PlanContext {
  readonly params: AddNodeParams;
  readonly dialect: Dialect;
  readonly snapshot: AddNodeSnapshot;
  readonly requester: string;
  readonly now: Date;
}

/** Names this plan's markers and backups on the hosts (a pure function of the plan's identity). */
export const planKeyOf = (ctx: PlanContext): string =>
  sha256Json({
    cluster: ctx.params.cluster.name,
    requester: ctx.requester,
    at: ctx.now.toISOString(),
    takenAt: ctx.snapshot.takenAt,
    host: ctx.snapshot.newHost.host,
  }).slice(0, 12);

/** The marker proving that step `stepId` of this plan made what it made on that node's host. */
export const markerOf = (
  ctx: PlanContext,
  node: { clusterPath: string; dataDir: string },
  stepId: string,
): string => posix.join(kbopsDirOf(node), `${planKeyOf(ctx)}-${stepId}.made`);
