import { posix } from 'node:path';
import { sealPlan, type SealedPlan, type Step, type Target, type VerdictCheck } from '../../core/plan';
import type { Json } from '../../core/json';
import type { Dialect } from '../../dialects/dialect';
import { stdinSecretToEnv } from '../../shell/shell-command';
import type { AddNodeParams } from './add-node-params';
import type { AddNodeSnapshot, NodeFacts } from './add-node-snapshot';
import { change, check, confLines, editFile, exitZero, hbaAddress, MINUTE, sql, ssh } from './add-node-steps';
import { managerSteps } from './add-node-manager-steps';

// The add-node plan: a pure function of what was asked, what the planner saw, and the dialect.
// The order is the safe one (slot before base backup; hba before the new node connects), every
// mutating step carries its undo and an effect probe, and the run ends with one verdict.

export const RUNBOOK = { id: 'add-node', version: 1 } as const;

/** Stands in the plan where the password goes; the executor writes the real one into the file. */
export const PASSWORD_TOKEN = '@@KBOPS_DB_PASSWORD@@';

export interface PlanContext {
  readonly params: AddNodeParams;
  readonly dialect: Dialect;
  readonly snapshot: AddNodeSnapshot;
  readonly requester: string;
  readonly now: Date;
}

const targetOf = (n: { name: string; host: string; sshPort: number; sqlPort: number }): Target => ({
  name: n.name,
  host: n.host,
  sshPort: n.sshPort,
  sqlPort: n.sqlPort,
});

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

function copyClusterFileSteps(params: AddNodeParams, primary: NodeFacts, name: string): Step[] {
  // scp runs on the new host and logs in to the primary as the OS user (not the database user).
  const from = (p: string) =>
    `${params.cluster.ssh.user}@${primary.host}:${posix.join(primary.clusterPath, p)}`;
  const to = (p: string) => posix.join(params.clusterPath, p);
  const scp = (sources: string[], dest: string) =>
    ssh(['scp', '-rpq', '-o', 'BatchMode=yes', ...sources, dest]);
  const dirs = ['db/bin', 'db/etc', 'db/lib', 'db/share'];
  return [
    change(
      'archivedir',
      'create an empty archive directory (and db/, which the copy fills)',
      name,
      ssh(['mkdir', '-p', '--', to('archivedir'), to('db')]),
      [ssh(['rmdir', '--', to('archivedir')])],
      { probe: { kind: 'ssh', argv: ['test', '-d', to('archivedir')] }, present: exitZero },
    ),
    change(
      'copy-cluster-files',
      `copy the cluster software and settings from ${primary.name} (never kingbasecluster/)`,
      name,
      scp(dirs.map(from), to('db')),
      [ssh(['rm', '-rf', '--', ...dirs.map(to)])],
      { probe: { kind: 'ssh', argv: ['test', '-d', to('db/bin')] }, present: exitZero },
      {
        timeoutMs: 10 * MINUTE,
        note: 'needs SSH trust from the new host to the primary for the OS user, as the write-up sets up',
      },
    ),
    change(
      'copy-template',
      `copy template.bk from ${primary.name} (kingbase.conf's control_file_copy)`,
      name,
      scp([from('template.bk')], to('template.bk')),
      [ssh(['rm', '-f', '--', to('template.bk')])],
      { probe: { kind: 'ssh', argv: ['test', '-f', to('template.bk')] }, present: exitZero },
    ),
  ];
}

function standbyConfigSteps(ctx: PlanContext, primary: NodeFacts, slot: string): Step[] {
  const { dialect: d, snapshot: snap, params } = ctx;
  const N = snap.newHost;
  const p = snap.primary!;
  const secrets = [
    { token: PASSWORD_TOKEN, secret: 'db.password' as const, encoding: d.conninfoPasswordEncoding },
  ];
  const entries = d.standbyEntries({
    primaryHost: primary.host,
    primaryPort: primary.sqlPort,
    user: params.cluster.db.user,
    applicationName: N.name,
    slotName: slot,
    passwordToken: PASSWORD_TOKEN,
  });
  const inData = (f: string) => posix.join(N.dataDir, f);
  const steps: Step[] = [];
  if (d.caps.recoveryConf) {
    steps.push(
      editFile(
        'recovery-conf',
        `write ${d.files.recoveryConf} on ${N.name}`,
        N.name,
        { path: inData(d.files.recoveryConf), sha256: null },
        { type: 'replace', content: confLines(entries) },
        { mode: 0o600, secrets },
      ),
    );
  } else {
    steps.push(
      editFile(
        'standby-signal',
        `mark ${N.name} as a standby`,
        N.name,
        { path: inData(d.files.standbySignal), sha256: null },
        { type: 'replace', content: '' },
        { mode: 0o600 },
      ),
      editFile(
        'standby-conninfo',
        `point ${N.name} at ${primary.name}`,
        N.name,
        { path: inData(d.files.autoConf), sha256: p.autoConf.sha256 },
        { type: 'set-keys', entries },
        { mode: 0o600, secrets, note: "the file is a copy of the primary's, made by the base backup" },
      ),
    );
  }
  // Node-specific settings in the copied server configuration (and V8R3's master copy in db/etc).
  const keys: Record<string, string> = { port: String(N.sqlPort), hot_standby: 'on' };
  const listen = p.listenAddresses?.replace(/^'|'$/g, '');
  if (listen === primary.host) keys.listen_addresses = `'${N.host}'`;
  steps.push(
    editFile(
      'node-conf',
      `set ${N.name}'s own settings in ${d.files.serverConf}`,
      N.name,
      { path: inData(d.files.serverConf), sha256: p.serverConf.sha256 },
      { type: 'set-keys', entries: keys },
    ),
  );
  if (d.caps.etcConfigCopy && p.etcServerConf) {
    const etc = posix.join(params.clusterPath, 'db', 'etc', d.files.serverConf);
    steps.push(
      editFile(
        'etc-node-conf',
        `the same in db/etc/${d.files.serverConf}`,
        N.name,
        { path: etc, sha256: p.etcServerConf.sha256 },
        { type: 'set-keys', entries: keys },
      ),
    );
  }
  if (d.caps.recoveryDone) {
    const done = posix.join(params.clusterPath, 'db', 'etc', 'recovery.done');
    const before = d.caps.copyClusterFiles
      ? (p.etcRecoveryDone?.sha256 ?? null)
      : (N.recoveryDone?.sha256 ?? null);
    steps.push(
      editFile(
        'recovery-done',
        `write db/etc/recovery.done on ${N.name} (used at failover)`,
        N.name,
        { path: done, sha256: before },
        { type: 'replace', content: confLines(entries) },
        { mode: 0o600, secrets, note: 'a stale name or slot here breaks the node at its first failover' },
      ),
    );
  }
  return steps;
}

function startSteps(
  ctx: PlanContext,
  primary: NodeFacts,
  tool: (n: { binDir: string }, name: string) => string,
): Step[] {
  const { dialect: d, snapshot: snap } = ctx;
  const N = snap.newHost;
  const log = N.logDirExists
    ? posix.join(N.clusterPath, 'log', `${N.name}-start.log`)
    : posix.join(N.dataDir, 'startup.log');
  const ctl = tool(N, d.tools.ctl);
  return [
    change(
      'start',
      `start ${N.name}`,
      N.name,
      // Without -l the server keeps the SSH session's output open and the command never returns.
      ssh([ctl, 'start', '-w', '-t', '300', '-D', N.dataDir, '-l', log]),
      [ssh([ctl, 'stop', '-w', '-t', '120', '-m', 'fast', '-D', N.dataDir], { okExitCodes: [0, 1] })],
      { probe: { kind: 'ssh', argv: [ctl, 'status', '-D', N.dataDir] }, present: exitZero },
      { timeoutMs: 6 * MINUTE },
    ),
    check(
      'wait-streaming',
      `wait until ${primary.name} streams to ${N.name}`,
      primary.name,
      {
        kind: 'wait-until',
        probe: {
          kind: 'sql',
          sql: `select state from ${d.sql.statReplication} where application_name = $1`,
          params: [N.name],
        },
        until: { kind: 'column-equals', column: 'state', value: 'streaming' },
        intervalMs: 1000,
      },
      15 * MINUTE,
    ),
  ];
}

function haModuleSteps(ctx: PlanContext, primary: NodeFacts): Step[] {
  const { snapshot: snap } = ctx;
  const N = snap.newHost;
  const add = { type: 'shell-array-add' as const, name: 'KB_ALL_IP', values: [N.host] };
  const steps: Step[] = [];
  for (const node of snap.nodes) {
    if (node.haModule && !node.haModule.allIps.includes(N.host)) {
      steps.push(
        editFile(
          `ha-${node.name}`,
          `add ${N.host} to KB_ALL_IP on ${node.name}`,
          node.name,
          node.haModule,
          add,
        ),
      );
    }
    if (node.managerHaModule && !node.managerHaModule.allIps.includes(N.host)) {
      steps.push(
        editFile(
          `ha-manager-${node.name}`,
          `the same in ${node.name}'s kingbasecluster copy`,
          node.name,
          node.managerHaModule,
          add,
        ),
      );
    }
  }
  // The new node's own copy: the one the base software brought, or the primary's after the copy step.
  const own =
    ctx.dialect.caps.copyClusterFiles && primary.haModule
      ? {
          ...primary.haModule,
          path: posix.join(ctx.params.clusterPath, 'db', 'etc', posix.basename(primary.haModule.path)),
        }
      : N.haModule;
  if (own) {
    steps.push(
      editFile(
        `ha-${N.name}`,
        `add ${N.host} to KB_ALL_IP and set KB_LOCALHOST_IP on ${N.name}`,
        N.name,
        own,
        {
          type: 'edits',
          edits: [add, { type: 'shell-var-set', name: 'KB_LOCALHOST_IP', value: N.host }],
        },
      ),
    );
  }
  return steps;
}

function verdictSteps(ctx: PlanContext, primary: NodeFacts, expectedWeight: string | null): Step[] {
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
      probe: {
        kind: 'sql',
        sql: `select state from ${d.sql.statReplication} where application_name = $1`,
        params: [N.name],
      },
      expect: { kind: 'column-equals', column: 'state', value: 'streaming' },
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
      target: `pool-${m.node}`,
      probe: { kind: 'sql', sql: 'show pool_nodes', params: [] },
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
    check('verdict', `verify replication to ${N.name}`, N.name, { kind: 'verdict', checks }, 15 * MINUTE),
    change(
      'drop-marker',
      'remove the marker',
      primary.name,
      sql(`drop table if exists ${marker}`),
      [],
      present(false),
    ),
  ];
}
