import { posix } from 'node:path';
import type { Json } from '../../core/json';
import type { Guard, Step, VerdictCheck } from '../../core/plan';
import { sealPlan, type SealedPlan } from '../../core/plan';
import { poolNodesQuery } from '../../cluster/manager-control';
import { waitStreaming } from '../../cluster/streaming';
import {
  change,
  confLines,
  editFile,
  exitZero,
  MINUTE,
  readOnly,
  ssh,
  sql,
} from '../../cluster/step-builders';
import { startClaimed, stopClaimed, REFUSED_EXIT } from '../../shell/owned-paths';
import { tailLogsOnFailure } from '../../shell/shell-command';
import { primaryOf, type FailoverNode } from './failover-facts';
import { rewindSteps } from './rewind-steps';
import {
  ctlOf,
  markerOf,
  PASSWORD_TOKEN,
  attachAction,
  pcpAction,
  planKeyOf,
  poolTarget,
  RUNBOOK,
  startLogOf,
  statusProbe,
  targetsOf,
  type PlanContext,
} from './failover-plan-context';

// After a drill: every stopped node rejoins as a standby of the new primary. Each gets its slot on
// the new primary, its recovery settings pointing there (standby.signal + auto.conf, or V8R3's
// recovery.conf and db/etc/recovery.done), is started, streams, and is attached to the pool. Only
// nodes pg_rewind --dry-run says can follow as they are (preflight refuses the others).

export const rejoinersOf = (ctx: Pick<PlanContext, 'facts'>): FailoverNode[] =>
  ctx.facts.nodes.filter((n) => n.running === false);

function configSteps(ctx: PlanContext, N: FailoverNode, X: FailoverNode, slot: string): Step[] {
  const d = ctx.dialect;
  const c = ctx.params.cluster;
  const entries = d.standbyEntries({
    primaryHost: N.host,
    primaryPort: N.sqlPort,
    user: c.db.user,
    applicationName: X.name,
    slotName: slot,
    passwordToken: PASSWORD_TOKEN,
  });
  const secrets = [
    { token: PASSWORD_TOKEN, secret: 'db.password' as const, encoding: d.conninfoPasswordEncoding },
  ];
  const steps: Step[] = [];
  if (d.caps.recoveryConf) {
    steps.push(
      editFile(
        'recovery-conf-' + X.name,
        `point ${X.name} at ${N.name} (${d.files.recoveryConf})`,
        X.name,
        X.files.recoveryConf,
        {
          type: 'replace',
          content: confLines(entries),
        },
        { mode: 0o600, secrets },
      ),
    );
    if (X.files.recoveryDone)
      steps.push(
        editFile(
          'recovery-done-' + X.name,
          `the same in db/etc/recovery.done on ${X.name} (used at failover)`,
          X.name,
          X.files.recoveryDone,
          {
            type: 'replace',
            content: confLines(entries),
          },
          { mode: 0o600, secrets },
        ),
      );
  } else {
    if (X.files.standbySignal.sha256 === null)
      steps.push(
        editFile(
          'standby-signal-' + X.name,
          `mark ${X.name} as a standby`,
          X.name,
          X.files.standbySignal,
          {
            type: 'replace',
            content: '',
          },
          { mode: 0o600 },
        ),
      );
    steps.push(
      editFile(
        'conninfo-' + X.name,
        `point ${X.name} at ${N.name} (${d.files.autoConf})`,
        X.name,
        X.files.autoConf,
        {
          type: 'set-keys',
          entries,
        },
        { mode: 0o600, secrets },
      ),
    );
  }
  return steps;
}

export function planRestore(ctx: PlanContext): SealedPlan {
  const { facts, dialect: d, params } = ctx;
  const N = primaryOf(facts)!;
  const R = rejoinersOf(ctx);
  const pool = poolTarget(ctx);
  const key = planKeyOf(ctx);
  const steps: Step[] = [];
  for (const X of R) {
    const slot = `slot_${X.name}`;
    if (!(facts.slots ?? []).includes(slot)) {
      const has = (p: boolean) => ({
        probe: {
          kind: 'sql' as const,
          sql: `select count(*)::int as n from ${d.sql.replicationSlots} where slot_name = $1`,
          params: [slot],
        },
        present: { kind: 'column-equals' as const, column: 'n', value: p ? 1 : 0 },
      });
      steps.push(
        change(
          'slot-' + X.name,
          `create the slot ${slot} on ${N.name}`,
          N.name,
          sql(`select 1 from ${d.sql.createPhysicalSlot}($1)`, [slot]),
          [sql(`select 1 from ${d.sql.dropSlot}($1)`, [slot])],
          has(true),
        ),
      );
    }
    if (X.rewind?.need === 'needed') steps.push(...rewindSteps(ctx, N, X));
    steps.push(...configSteps(ctx, N, X, slot));
    const marker = markerOf(ctx, X, `start-${X.name}`);
    const pidFile = posix.join(X.dataDir, d.files.pidFile);
    const log = startLogOf(X);
    const ctl = ctlOf(d, X);
    steps.push(
      change(
        'start-' + X.name,
        `start ${X.name} as a standby of ${N.name}`,
        X.name,
        ssh(
          startClaimed(
            marker,
            key,
            pidFile,
            tailLogsOnFailure(
              // The server's own log (logging_collector) says why it did not start.
              [log, ...(X.logDir ? [X.logDir] : [])],
              [ctl, 'start', '-w', '-t', '300', '-D', X.dataDir, '-l', log],
            ),
          ),
          { refusedExitCodes: [REFUSED_EXIT] },
        ),
        [
          ssh(
            stopClaimed(marker, key, pidFile, [
              ctl,
              'stop',
              '-w',
              '-t',
              '120',
              '-m',
              'fast',
              '-D',
              X.dataDir,
            ]),
          ),
        ],
        { probe: statusProbe(d, X), present: exitZero },
        {
          timeoutMs: 6 * MINUTE,
          note: 'refused if a server already runs there; its undo stops only the server this run started',
        },
      ),
      waitStreaming('streaming-' + X.name, N.name, X.name, d, 10 * MINUTE),
    );
    if (pool && X.poolIndex !== null)
      steps.push(
        change(
          'attach-' + X.name,
          `attach ${X.name} (backend ${X.poolIndex}) to the pool`,
          pool,
          attachAction(ctx, X.poolIndex),
          [pcpAction(ctx, 'pcp_detach_node', X.poolIndex, [0, 1])],
          {
            probe: poolNodesQuery,
            present: { kind: 'some-row', where: { node_id: String(X.poolIndex), status: 'up' } },
          },
          {
            timeoutMs: 2 * MINUTE,
            note: 'attached again until the manager shows it up; the PCP password reaches the pcp tools through a temporary PCPPASSFILE, from stdin',
          },
        ),
      );
  }
  const caughtUpSql = `select ${d.sql.walPositionDiff}(${d.sql.lastReplayPosition}(), $1) >= 0 as caught_up`;
  const checks: VerdictCheck[] = [
    ...facts.nodes
      .filter((n) => n !== N)
      .map((X): VerdictCheck => ({
        kind: 'catch-up',
        name: `${X.name} streams from ${N.name} and replayed up to it`,
        primary: N.name,
        standby: X.name,
        positionSql: `select ${d.sql.currentWalPosition}()::text as position`,
        caughtUpSql,
        waitMs: 5 * MINUTE,
      })),
    ...(pool
      ? facts.nodes
          .filter((n) => n.poolIndex !== null)
          .map((X): VerdictCheck => ({
            kind: 'probe',
            name: `the pool lists ${X.name} up as ${X === N ? 'primary' : 'a standby'}`,
            target: pool,
            probe: poolNodesQuery,
            expect: {
              kind: 'some-row',
              where: { node_id: String(X.poolIndex), status: 'up', role: X === N ? 'primary' : 'standby' },
            },
            waitMs: MINUTE,
          }))
      : []),
  ];
  steps.push(
    readOnly(
      'verdict',
      `verify every node streams from ${N.name}`,
      N.name,
      { kind: 'verdict', checks },
      15 * MINUTE,
    ),
  );
  return sealPlan({
    formatVersion: 1,
    runbook: RUNBOOK,
    cluster: params.cluster.name,
    dialect: d.id,
    params: { phase: 'restore', primary: N.name, rejoin: R.map((n) => n.name) },
    requester: ctx.requester,
    createdAt: ctx.now.toISOString(),
    targets: targetsOf(ctx),
    snapshot: facts as unknown as Json,
    guards: restoreGuards(ctx, N, R),
    approvals: { min: 2, requesterExcluded: true },
    // A half-done restore (a slot holding WAL on the new primary) is undone, whatever the inventory says.
    rollbackOnFailure: true,
    steps,
  });
}

function restoreGuards(ctx: PlanContext, N: FailoverNode, R: readonly FailoverNode[]): Guard[] {
  const d = ctx.dialect;
  return [
    {
      name: `${N.name} is still the primary`,
      target: N.name,
      probe: { kind: 'sql', sql: `select ${d.sql.isInRecovery}() as in_recovery`, params: [] },
      expect: { kind: 'column-equals', column: 'in_recovery', value: false },
    },
    ...R.map((X) => ({
      name: `${X.name}'s server is stopped`,
      target: X.name,
      probe: statusProbe(d, X),
      expect: { kind: 'exit-code' as const, equals: 3 },
      until: `start-${X.name}`,
    })),
  ];
}
