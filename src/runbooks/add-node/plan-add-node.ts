import { posix } from 'node:path';
import { sealPlan, type SealedPlan, type Step, type Target } from '../../core/plan';
import type { Json } from '../../core/json';
import { stdinSecretToEnv } from '../../shell/shell-command';
import { change, check, editFile, exitZero, hbaAddress, MINUTE, sql, ssh } from './add-node-steps';
import { managerSteps } from './add-node-manager-steps';
import { copyClusterFileSteps, haModuleSteps } from './add-node-cluster-steps';
import { PASSWORD_TOKEN, targetOf, type PlanContext } from './add-node-plan-context';
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
  const steps: Step[] = [];

  // Nothing has drifted since planning: the primary is still the primary.
  steps.push(
    check('check-primary', `${primary.name} is still the primary`, primary.name, {
      kind: 'verify',
      probe: { kind: 'sql', sql: `select ${d.sql.isInRecovery}() as in_recovery`, params: [] },
      expect: { kind: 'column-equals', column: 'in_recovery', value: false },
    }),
  );

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
      check(`reload-${node.name}`, `reload ${node.name}'s configuration`, node.name, reload),
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
  const dropSlot = sql(
    `select ${d.sql.dropSlot}(slot_name) from ${d.sql.replicationSlots} where slot_name = $1`,
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
        [dropSlot],
        slotEffect,
        reserve
          ? { note: 'reserves WAL at once, before the base backup' }
          : { note: 'kept for after a failover' },
      ),
    );
  }

  if (d.caps.copyClusterFiles) steps.push(...copyClusterFileSteps(params, primary, N.name));

  if (N.dataDirState === 'absent') {
    steps.push(
      change(
        'datadir',
        `create the data directory on ${N.name}`,
        N.name,
        ssh(['mkdir', '-p', '-m', '0700', '--', N.dataDir]),
        [ssh(['rm', '-rf', '--', N.dataDir])],
        { probe: { kind: 'ssh', argv: ['test', '-d', N.dataDir] }, present: exitZero },
      ),
    );
  }

  const backupMs = Math.max(30 * MINUTE, ((primaryFacts.databaseBytes ?? 0) / (10 * 1024 * 1024)) * 1000 * 3);
  steps.push(
    change(
      'basebackup',
      `copy ${primary.name} to ${N.name} (base backup, WAL streamed)`,
      N.name,
      ssh(
        stdinSecretToEnv(d.passwordEnv, [
          tool(N, d.tools.basebackup),
          ...d.basebackupArgs({ host: primary.host, port: primary.sqlPort, user, dataDir: N.dataDir, slot }),
        ]),
        { stdinSecret: 'db.password', progress: { kind: 'basebackup' } },
      ),
      [ssh(['find', N.dataDir, '-mindepth', '1', '-delete'])],
      {
        probe: { kind: 'ssh', argv: ['test', '-f', posix.join(N.dataDir, d.files.controlFile)] },
        present: exitZero,
      },
      {
        timeoutMs: Math.round(backupMs),
        note: 'the password reaches the tool through its environment, from stdin',
      },
    ),
  );

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
      return [
        `pool-${m.node}`,
        { ...targetOf({ ...host, name: `pool-${m.node}`, sqlPort: m.sqlPort }), sqlHost: m.host },
      ] as const;
    }),
  ]);
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
    steps,
  });
}
