import type { Json } from '../../core/json';
import type { Action, Condition, Step, VerdictCheck } from '../../core/plan';
import { sealPlan, type SealedPlan } from '../../core/plan';
import { poolNodesQuery } from '../../cluster/manager-control';
import { isStreaming, streamingProbe } from '../../cluster/streaming';
import { change, MINUTE, readOnly, repeatable, sql, ssh } from '../../cluster/step-builders';
import { drillGuards } from './drill-guards';
import { failoverLogLines, startUnlessRunning } from '../../shell/server-control';
import { primaryOf, targetNameOf, type FailoverNode } from './failover-facts';
import { DRILL_ROWS } from './failover-params';
import {
  ctlOf,
  inRecoverySql,
  attachAction,
  planKeyOf,
  poolTarget,
  RUNBOOK,
  startLogOf,
  statusProbe,
  targetsOf,
  type PlanContext,
} from './failover-plan-context';

// The drill (write-up §3): stamp numbered rows through the pool, stop every standby but the target,
// stop the primary, and prove the target was promoted: how long it took, how many acknowledged rows
// it lacks, and that the pool sends writes to it. Every stop has an undo that starts the node again
// and re-attaches it to the pool, so a drill whose failover did not happen puts the cluster back.

/** pgpool's (and kingbasecluster's) hint: send this read to the primary, not to a standby behind it. */
const NO_LOAD_BALANCE = '/*NO LOAD BALANCE*/';

const stopped: Condition = { kind: 'exit-code', equals: 3 };

export function planDrill(ctx: PlanContext): SealedPlan {
  const { facts, dialect: d, params } = ctx;
  const P = primaryOf(facts)!;
  const T = facts.nodes.find((n) => n.name === targetNameOf(facts, params.target))!;
  const others = facts.nodes.filter((n) => n !== P && n !== T);
  const pool = poolTarget(ctx)!;
  const key = planKeyOf(ctx);
  const table = `kbops_drill_${key}`;
  const waitS = Math.round(params.waitMs / 1000);
  const logFile = params.cluster.manager?.nodes[0]?.logFile;

  const stop = (n: FailoverNode) =>
    ssh([ctlOf(d, n), 'stop', '-w', '-t', '120', '-m', 'fast', '-D', n.dataDir]);
  const startAgain = (n: FailoverNode) => ssh(startUnlessRunning(ctlOf(d, n), n.dataDir, startLogOf(n)));
  const attach = (n: FailoverNode) => attachAction(ctx, n.poolIndex!);
  // An undo is done when the node streams again, not when its start returned: the primary is asked.
  const streamsAgain = (n: FailoverNode): Action => ({
    kind: 'wait-until',
    on: P.name,
    probe: streamingProbe(d, n.name),
    until: isStreaming,
    intervalMs: 1000,
  });

  const steps: Step[] = [
    change(
      'drill-table',
      `create the drill's table ${table} on the primary ${P.name}, through the pool`,
      // Through the pool: after a crash its effect is read (and undone) on whichever node is the
      // primary then; once stop-primary has run, P itself no longer answers.
      pool,
      sql(
        `create table ${table} (n integer primary key, at timestamp with time zone not null default now())`,
      ),
      [sql(`drop table if exists ${table}`)],
      {
        probe: {
          kind: 'sql',
          sql: `${NO_LOAD_BALANCE} select to_regclass($1) is not null as present`,
          params: [table],
        },
        present: { kind: 'column-equals', column: 'present', value: true },
      },
    ),
    change(
      'stamp',
      `write rows 1–${DRILL_ROWS} through the pool, each acknowledged`,
      pool,
      sql(`insert into ${table} (n) select generate_series(1, ${DRILL_ROWS})`),
      [],
      {
        probe: { kind: 'sql', sql: `${NO_LOAD_BALANCE} select count(*)::int as n from ${table}`, params: [] },
        // At least: the verdict writes one more row through the pool.
        present: { kind: 'column-at-least', column: 'n', value: DRILL_ROWS },
      },
      {
        note: `the undo of drill-table drops them; the verdict counts the ones ${T.name} lacks after the failover`,
      },
    ),
    readOnly(
      'target-has-rows',
      `wait until ${T.name} has replayed the ${DRILL_ROWS} rows`,
      T.name,
      {
        kind: 'wait-until',
        probe: { kind: 'sql', sql: `select count(*)::int as n from ${table}`, params: [] },
        until: { kind: 'column-equals', column: 'n', value: DRILL_ROWS },
        intervalMs: 500,
      },
      2 * MINUTE,
    ),
  ];
  for (const o of others) {
    steps.push(
      change(
        `stop-${o.name}`,
        `stop the standby ${o.name}`,
        o.name,
        stop(o),
        [startAgain(o), attach(o), streamsAgain(o)],
        {
          probe: statusProbe(d, o),
          present: stopped,
        },
        {
          timeoutMs: 3 * MINUTE,
          note: `its undo starts it again and attaches it to the pool (backend ${o.poolIndex})`,
        },
      ),
    );
  }
  if (others.length > 0) {
    steps.push(
      readOnly(
        'pool-sees-stopped',
        `wait until the pool shows ${others.map((o) => o.name).join(', ')} down`,
        pool,
        {
          kind: 'wait-until',
          probe: poolNodesQuery,
          until: {
            kind: 'all',
            of: others.map((o) => ({
              kind: 'some-row' as const,
              where: { node_id: String(o.poolIndex), status: 'down' },
            })),
          },
          intervalMs: 1000,
        },
        2 * MINUTE,
      ),
    );
  }
  steps.push(
    readOnly(
      'only-target-streams',
      `wait until ${P.name} streams only to ${T.name}`,
      P.name,
      {
        kind: 'wait-until',
        probe: {
          kind: 'sql',
          sql: `select count(*) filter (where application_name <> $1)::int as others, count(*) filter (where application_name = $1 and state = 'streaming')::int as target from ${d.sql.statReplication}`,
          params: [T.name],
        },
        until: {
          kind: 'all',
          of: [
            { kind: 'column-equals', column: 'others', value: 0 },
            { kind: 'column-equals', column: 'target', value: 1 },
          ],
        },
        intervalMs: 1000,
      },
      2 * MINUTE,
    ),
    change(
      'stop-primary',
      `stop the primary ${P.name} (the failover starts here)`,
      P.name,
      stop(P),
      [
        // Never a second primary: the old one starts again only while the target is still a standby.
        {
          kind: 'verify',
          on: T.name,
          probe: inRecoverySql(d),
          expect: { kind: 'column-equals', column: 'in_recovery', value: true },
        },
        startAgain(P),
        attach(P),
        streamsAgain(T),
      ],
      { probe: statusProbe(d, P), present: stopped },
      {
        timeoutMs: 3 * MINUTE,
        note: `writes fail until ${T.name} is promoted; the undo starts ${P.name} again only while ${T.name} is still a standby`,
      },
    ),
  );
  const checks: VerdictCheck[] = [
    {
      kind: 'probe',
      name: `${T.name} promoted within ${waitS} s (expected winner)`,
      target: T.name,
      probe: inRecoverySql(d),
      expect: { kind: 'column-equals', column: 'in_recovery', value: false },
      waitMs: params.waitMs,
      measure: 'failover time',
      gate: true,
      failed: {
        says: `failover did NOT happen within ${waitS} s: ${T.name} is still a standby`,
        ...(logFile !== undefined && { explain: { target: pool, argv: failoverLogLines(logFile) } }),
      },
    },
    {
      kind: 'probe',
      name: `the pool lists ${T.name} as its primary, up`,
      target: pool,
      probe: poolNodesQuery,
      expect: { kind: 'some-row', where: { node_id: String(T.poolIndex), status: 'up', role: 'primary' } },
      waitMs: MINUTE,
    },
    {
      kind: 'probe',
      name: `a write through the pool lands on ${T.name}`,
      target: pool,
      probe: {
        kind: 'sql',
        sql: `insert into ${table} (n) values (${DRILL_ROWS + 1}) on conflict (n) do update set at = now() returning n`,
        params: [],
      },
      expect: { kind: 'row-count', min: 1 },
      waitMs: MINUTE,
    },
    {
      kind: 'lost-rows',
      name: `acknowledged rows on ${T.name}`,
      target: T.name,
      countSql: `select count(*)::int as n from ${table} where n between 1 and ${DRILL_ROWS}`,
      acknowledged: DRILL_ROWS,
      waitMs: 30_000,
    },
    ...[P, ...others].map((n): VerdictCheck => ({
      kind: 'probe',
      name: `${n.name} stays stopped (one primary)`,
      target: n.name,
      probe: statusProbe(d, n),
      expect: stopped,
      waitMs: 0,
    })),
  ];
  steps.push(
    readOnly(
      'verdict',
      `prove ${T.name} took over`,
      T.name,
      { kind: 'verdict', checks },
      params.waitMs + 5 * MINUTE,
    ),
    repeatable(
      'drop-drill-table',
      `drop the drill's table on the new primary ${T.name}`,
      T.name,
      sql(`drop table if exists ${table}`),
    ),
  );
  return sealPlan({
    formatVersion: 1,
    runbook: RUNBOOK,
    cluster: params.cluster.name,
    dialect: d.id,
    params: { phase: 'drill', target: T.name, expectedWinner: T.name, waitMs: params.waitMs, table },
    requester: ctx.requester,
    createdAt: ctx.now.toISOString(),
    targets: targetsOf(ctx),
    snapshot: facts as unknown as Json,
    guards: drillGuards(ctx, P, T, others),
    approvals: { min: 2, requesterExcluded: true },
    rollbackOnFailure: true,
    steps,
  });
}
