import type { Step, VerdictCheck } from '../../core/plan';
import type { NodeFacts } from '../../cluster/cluster-facts';
import { poolNodesQuery } from '../../cluster/manager-control';
import { change, MINUTE, readOnly, repeatable, sql } from '../../cluster/step-builders';
import { isStreaming, streamingProbe } from '../../cluster/streaming';
import { poolTargetName } from '../../cluster/target-of';
import { type PlanContext } from './add-node-plan-context';

// The end of the run: a marker written on the primary, and one verdict with every check shown.

export function verdictSteps(ctx: PlanContext, primary: NodeFacts, expectedWeight: string | null): Step[] {
  const { dialect: d, snapshot: snap, params } = ctx;
  const N = snap.newHost;
  const marker = `kbops_marker_${N.name}`;
  const caughtUpSql = `select ${d.sql.walPositionDiff}(${d.sql.lastReplayPosition}(), $1) >= 0 as caught_up`;
  const position = `${d.sql.currentWalPosition}()::text as position`;
  const checks: VerdictCheck[] = [
    {
      kind: 'probe',
      name: `${N.name} is streaming`,
      target: primary.name,
      probe: streamingProbe(d, N.name),
      expect: isStreaming,
      waitMs: MINUTE,
    },
    {
      kind: 'catch-up',
      name: `${N.name} replayed up to the primary`,
      primary: primary.name,
      standby: N.name,
      positionSql: `select ${position}`,
      caughtUpSql,
      waitMs: 5 * MINUTE,
    },
    {
      kind: 'probe',
      name: 'a row written on the primary is read on the new node',
      target: N.name,
      probe: { kind: 'sql', sql: `select to_regclass($1) is not null as present`, params: [marker] },
      expect: { kind: 'column-equals', column: 'present', value: true },
      waitMs: MINUTE,
    },
    ...params.countTables.map((t): VerdictCheck => ({
      kind: 'rows',
      name: `rows of ${t}`,
      primary: primary.name,
      standby: N.name,
      countSql: `select count(*) as n, ${position} from ${t}`,
      standbyCountSql: `select count(*) as n from ${t}`,
      caughtUpSql,
      waitMs: 5 * MINUTE,
    })),
    ...snap.managers.map((m): VerdictCheck => ({
      kind: 'probe',
      name: `${m.node}'s pool lists ${N.name} up as a standby`,
      target: poolTargetName(m.node),
      probe: poolNodesQuery,
      expect: {
        kind: 'some-row',
        where: {
          hostname: N.host,
          status: 'up',
          role: 'standby',
          ...(expectedWeight && { lb_weight: expectedWeight }),
        },
      },
      waitMs: MINUTE,
    })),
  ];
  const present = (p: boolean) => ({
    probe: { kind: 'sql' as const, sql: 'select to_regclass($1) is not null as present', params: [marker] },
    present: { kind: 'column-equals' as const, column: 'present', value: p },
  });
  return [
    change(
      'marker',
      'write a marker on the primary',
      primary.name,
      sql(`create table ${marker} as select now() as written_at`),
      [sql(`drop table if exists ${marker}`)],
      present(true),
    ),
    readOnly('verdict', `verify replication to ${N.name}`, N.name, { kind: 'verdict', checks }, 15 * MINUTE),
    // Repeatable, not probed: once the marker is dropped, the marker step's probe reads "absent"
    // while this one would read "done", which resume takes for a cluster not where the run left it.
    // Dropping again is harmless; a crash after the drop resumes at the marker and verifies again.
    repeatable('drop-marker', 'remove the marker', primary.name, sql(`drop table if exists ${marker}`)),
  ];
}
