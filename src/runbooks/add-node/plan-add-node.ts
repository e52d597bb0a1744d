import { posix } from 'node:path';
import { sealPlan, type SealedPlan, type Step, type Target } from '../../core/plan';
import { fillOwnedDir, makeOwnedDir, REFUSED_EXIT, removeOwned } from '../../shell/owned-paths';
import { addNodeGuards } from './add-node-guards';
import type { Json } from '../../core/json';
import { stdinSecretToEnv } from '../../shell/shell-command';
import { reloadAfterHbaEdit } from '../../cluster/reload-server';
import {
  change,
  editFile,
  exitZero,
  hbaAddress,
  HOUR,
  sql,
  ssh,
  STALL_MS,
} from '../../cluster/step-builders';
import { poolTargetName, poolTargetOf, targetOf } from '../../cluster/target-of';
import { managerSteps } from './add-node-manager-steps';
import { copyClusterFileSteps, haModuleSteps } from './add-node-cluster-steps';
import { kbopsDirOf, markerOf, PASSWORD_TOKEN, planKeyOf, type PlanContext } from './add-node-plan-context';
import { standbyConfigSteps, startSteps } from './add-node-standby-steps';
import { verdictSteps } from './add-node-verdict-steps';

export { PASSWORD_TOKEN, type PlanContext };

// The add-node plan: a pure function of what was asked, what the planner saw, and the dialect.
// The order is the safe one (slot before base backup; hba before the new node connects), every
// mutating step carries its undo and an effect probe, and the run ends with one verdict.

export const RUNBOOK = { id: 'add-node', version: 1 } as const;

export function planAddNode(ctx: PlanContext): SealedPlan {
  const { params, dialect: d, snapshot: snap } = ctx;
  const primaryFacts = snap.primary;
  const primary = snap.nodes.find((n) => n.name === primaryFacts?.name);
  if (!primaryFacts || !primary)
    throw new Error('planAddNode needs a snapshot with a primary (run preflight first)');
  const standbys = snap.nodes.filter((n) => n !== primary);
  const N = snap.newHost;
  const user = params.cluster.db.user;
  const slot = `slot_${N.name}`;
  const tool = (node: { binDir: string }, name: string) => posix.join(node.binDir, name);
  const key = planKeyOf(ctx);
  const steps: Step[] = [];

  // hba on every node first, so the new host may connect (and after a failover, too).
  const defaultMethod = d.caps.base64ConninfoPassword ? 'md5' : 'scram-sha-256';
  for (const node of snap.nodes) {
    const method = node.hba.authMethod ?? defaultMethod;
    const addr = hbaAddress(N.host);
    const reload = sql(`select ${d.sql.reloadConf}()`);
    steps.push(
      editFile(
        `hba-${node.name}`,
        `allow ${N.name} in ${d.files.hbaConf} on ${node.name}`,
        node.name,
        node.hba,
        {
          type: 'append-lines',
          lines: [
            `host    all             ${user}    ${addr}    ${method}`,
            `host    replication     ${user}    ${addr}    ${method}`,
          ],
        },
        { after: [reload] },
      ),
      reloadAfterHbaEdit(
        d,
        `reload-${node.name}`,
        `reload ${node.name}'s configuration`,
        node.name,
        `hba-${node.name}`,
      ),
    );
  }

  // The slot exists before the base backup starts, so no WAL it needs can be removed meanwhile.
  const slotEffect = {
    probe: {
      kind: 'sql' as const,
      sql: `select 1 from ${d.sql.replicationSlots} where slot_name = $1`,
      params: [slot],
    },
    present: { kind: 'row-count' as const, min: 1 },
  };
  // Only a slot this run made, and only once nothing uses it (the new node is stopped first).
  const slotIdle = {
    kind: 'wait-until' as const,
    probe: {
      kind: 'sql' as const,
      sql: `select count(*)::int as active from ${d.sql.replicationSlots} where slot_name = $1 and active`,
      params: [slot],
    },
    until: { kind: 'column-equals' as const, column: 'active', value: 0 },
    intervalMs: 500,
  };
  const dropSlot = sql(
    `select ${d.sql.dropSlot}(slot_name) from ${d.sql.replicationSlots} where slot_name = $1 and not active`,
    [slot],
  );
  const slotNodes = d.caps.slotsOnStandbys ? [primary, ...standbys] : [primary];
  for (const node of slotNodes) {
    const reserve = node === primary;
    steps.push(
      change(
        `slot-${node.name}`,
        `create replication slot ${slot} on ${node.name}`,
        node.name,
        sql(`select slot_name from ${d.sql.createPhysicalSlot}($1, ${reserve})`, [slot]),
        [slotIdle, dropSlot],
        slotEffect,
        reserve
          ? { note: 'reserves WAL at once, before the base backup' }
          : { note: 'kept for after a failover' },
      ),
    );
  }

  if (d.caps.copyClusterFiles) steps.push(...copyClusterFileSteps(ctx, primary));

  if (N.dataDirState === 'absent') {
    const marker = markerOf(ctx, N, 'datadir');
    steps.push(
      change(
        'datadir',
        `create the data directory on ${N.name}`,
        N.name,
        ssh(makeOwnedDir(marker, N.dataDir, key), { refusedExitCodes: [REFUSED_EXIT] }),
        [ssh(removeOwned(marker, N.dataDir, key, 'dir'))],
        { probe: { kind: 'ssh', argv: ['test', '-d', N.dataDir] }, present: exitZero },
        {
          note: 'refused if the directory exists by then; its undo removes it only while it is the one this run made',
        },
      ),
    );
  }

  // Judged by progress, not by a clock: a stall fails it; the outer bound only catches a host that
  // reports progress for ever (at 1 MB/s, the slowest link worth waiting for, plus an hour).
  const bytes = primaryFacts.databaseBytes ?? 0;
  const backupMs = Math.round(Math.max(2 * HOUR, HOUR + (bytes / (1024 * 1024)) * 1000));
  const bbMarker = markerOf(ctx, N, 'basebackup');
  steps.push({
    ...change(
      'basebackup',
      `copy ${primary.name} to ${N.name} (base backup, WAL streamed)`,
      N.name,
      ssh(
        fillOwnedDir(
          bbMarker,
          N.dataDir,
          key,
          stdinSecretToEnv(d.passwordEnv, [
            tool(N, d.tools.basebackup),
            ...d.basebackupArgs({
              host: primary.host,
              port: primary.sqlPort,
              user,
              dataDir: N.dataDir,
              slot,
            }),
          ]),
        ),
        { stdinSecret: 'db.password', progress: { kind: 'basebackup' }, refusedExitCodes: [REFUSED_EXIT] },
      ),
      [ssh(removeOwned(bbMarker, N.dataDir, key, 'contents'))],
      {
        probe: { kind: 'ssh', argv: ['test', '-f', posix.join(N.dataDir, d.files.controlFile)] },
        present: exitZero,
      },
      {
        timeoutMs: backupMs,
        note: 'refused unless the data directory is empty; the password reaches the tool through its environment, from stdin',
      },
    ),
    stallMs: STALL_MS,
  });

  steps.push(...standbyConfigSteps(ctx, primary, slot));
  steps.push(...startSteps(ctx, primary, tool));
  steps.push(...haModuleSteps(ctx, primary));
  const { steps: pool, expectedWeight } = managerSteps(ctx);
  steps.push(...pool);
  steps.push(...verdictSteps(ctx, primary, expectedWeight));

  const targets: Record<string, Target> = Object.fromEntries([
    ...snap.nodes.map((n) => [n.name, targetOf(n)] as const),
    [N.name, targetOf(N)] as const,
    ...snap.managers.map((m) => {
      const host = snap.nodes.find((n) => n.name === m.node)!;
      return [poolTargetName(m.node), poolTargetOf(host, m)] as const;
    }),
  ]);
  const dirOf = (target: string): string => {
    const name = target.startsWith('pool-') ? target.slice('pool-'.length) : target;
    const node = name === N.name ? N : snap.nodes.find((n) => n.name === name);
    if (!node) throw new Error(`planAddNode: no node for target ${target}`);
    return kbopsDirOf(node);
  };
  const withBackups = steps.map((step) =>
    step.action.kind === 'file-edit'
      ? {
          ...step,
          action: { ...step.action, backup: posix.join(dirOf(step.target), `${key}-${step.id}.bak`) },
        }
      : step,
  );
  return sealPlan({
    formatVersion: 1,
    runbook: RUNBOOK,
    cluster: params.cluster.name,
    dialect: d.id,
    params: { host: N.host, name: N.name, dataDir: N.dataDir, countTables: [...params.countTables] },
    requester: ctx.requester,
    createdAt: ctx.now.toISOString(),
    targets,
    snapshot: snap as unknown as Json,
    guards: addNodeGuards(ctx, primary, slot, slotNodes, withBackups),
    steps: withBackups,
  });
}
