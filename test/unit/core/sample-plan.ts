import { sealPlan, type Plan, type SealedPlan, type Step } from '../../../src/core/plan';

// The write-up's expansion (srv159 joins srv127 + srv129), as a runbook might plan it. Shared by the
// plan-schema and render-plan tests; the render golden depends on every detail here.

const ESHA = '/home/kingbase/cluster/ESHA';
const DATA = `${ESHA}/db/data`;
const BIN = `${ESHA}/db/bin`;
const SHA_CONF = '3b0c5c2f1e8a4d7b9c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c';
const SHA_HBA = 'c4b5a6f7e8d9c0b1a2f3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5';
const SHA_HA = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';

const steps: Step[] = [
  {
    id: 'check-data-dir',
    title: 'The data directory on srv159 is absent or empty',
    target: 'srv159',
    action: {
      kind: 'verify',
      probe: { kind: 'ssh', argv: ['sh', '-c', `test ! -e ${DATA} || test -z "$(ls -A ${DATA})"`] },
      expect: { kind: 'exit-code', equals: 0 },
    },
    timeoutMs: 15_000,
    mutates: false,
    undo: null,
  },
  {
    id: 'create-slot',
    title: 'Create replication slot slot_srv159 on the primary',
    target: 'srv127',
    action: {
      kind: 'sql',
      sql: 'select slot_name from sys_create_physical_replication_slot($1)',
      params: ['slot_srv159'],
    },
    timeoutMs: 30_000,
    mutates: true,
    undo: [{ kind: 'sql', sql: 'select sys_drop_replication_slot($1)', params: ['slot_srv159'] }],
    effect: {
      probe: {
        kind: 'sql',
        sql: 'select 1 from sys_replication_slots where slot_name = $1',
        params: ['slot_srv159'],
      },
      present: { kind: 'row-count', min: 1 },
    },
    note: 'Created before the backup so the primary keeps the WAL the new standby needs.',
  },
  {
    id: 'make-data-dir',
    title: 'Create the data directory',
    target: 'srv159',
    action: { kind: 'ssh', argv: ['install', '-d', '-m', '0700', DATA] },
    timeoutMs: 15_000,
    mutates: true,
    undo: [{ kind: 'ssh', argv: ['rm', '-rf', '--', DATA] }],
    effect: { probe: { kind: 'ssh', argv: ['test', '-d', DATA] }, present: { kind: 'exit-code', equals: 0 } },
  },
  {
    id: 'base-backup',
    title: 'Copy the primary with sys_basebackup',
    target: 'srv159',
    action: {
      kind: 'ssh',
      argv: [`${BIN}/sys_basebackup`, '-h', '192.168.4.127', '-p', '54321', '-U', 'SYSTEM', '-D', DATA],
      stdinSecret: 'db.password',
      progress: { kind: 'basebackup' },
    },
    timeoutMs: 7_200_000,
    mutates: true,
    undo: [{ kind: 'ssh', argv: ['find', DATA, '-mindepth', '1', '-delete'] }],
    effect: {
      probe: { kind: 'file', path: `${DATA}/backup_label.old` },
      present: { kind: 'not', of: { kind: 'file-sha', sha256: null } },
    },
  },
  {
    id: 'write-recovery-conf',
    title: 'Write recovery.conf',
    target: 'srv159',
    action: {
      kind: 'file-edit',
      path: `${DATA}/recovery.conf`,
      expectedSha256: null,
      edit: {
        type: 'replace',
        content:
          "standby_mode='on'\nprimary_conninfo='port=54321 host=192.168.4.127 user=SYSTEM application_name=srv159'\n" +
          "recovery_target_timeline='latest'\nprimary_slot_name='slot_srv159'\n",
      },
      mode: 0o600,
    },
    timeoutMs: 10_000,
    mutates: true,
    undo: [{ kind: 'file-restore', path: `${DATA}/recovery.conf`, editStepId: 'write-recovery-conf' }],
    effect: {
      probe: { kind: 'file', path: `${DATA}/recovery.conf` },
      present: { kind: 'not', of: { kind: 'file-sha', sha256: null } },
    },
  },
  {
    id: 'tune-kingbase-conf',
    title: 'Set node-specific settings in kingbase.conf',
    target: 'srv159',
    action: {
      kind: 'file-edit',
      path: `${DATA}/kingbase.conf`,
      expectedSha256: SHA_CONF,
      edit: {
        type: 'set-keys',
        entries: { port: '54321', hot_standby: 'on', log_directory: `'${DATA}/sys_log/'` },
      },
    },
    timeoutMs: 10_000,
    mutates: true,
    undo: [{ kind: 'file-restore', path: `${DATA}/kingbase.conf`, editStepId: 'tune-kingbase-conf' }],
    effect: {
      probe: { kind: 'ssh', argv: ['grep', '-Eq', '^hot_standby *= *on', `${DATA}/kingbase.conf`] },
      present: { kind: 'exit-code', equals: 0 },
    },
  },
  {
    id: 'hba-srv127',
    title: 'Allow srv159 in sys_hba.conf on srv127',
    target: 'srv127',
    action: {
      kind: 'file-edit',
      path: `${DATA}/sys_hba.conf`,
      expectedSha256: SHA_HBA,
      edit: {
        type: 'append-lines',
        lines: ['host all SYSTEM 192.168.4.159/32 md5', 'host replication SYSTEM 192.168.4.159/32 md5'],
      },
    },
    timeoutMs: 10_000,
    mutates: true,
    undo: [
      { kind: 'file-restore', path: `${DATA}/sys_hba.conf`, editStepId: 'hba-srv127' },
      { kind: 'ssh', argv: [`${BIN}/sys_ctl`, 'reload', '-D', DATA] },
    ],
    effect: {
      probe: {
        kind: 'ssh',
        argv: ['grep', '-c', 'replication SYSTEM 192.168.4.159/32', `${DATA}/sys_hba.conf`],
      },
      present: { kind: 'stdout-matches', pattern: '^[1-9]' },
    },
  },
  {
    id: 'reload-srv127',
    title: 'Reload srv127 so the new sys_hba.conf lines apply',
    target: 'srv127',
    action: { kind: 'ssh', argv: [`${BIN}/sys_ctl`, 'reload', '-D', DATA] },
    timeoutMs: 30_000,
    mutates: true,
    undo: [],
    effect: { probe: { kind: 'ssh', argv: ['true'] }, present: { kind: 'exit-code', equals: 0 } },
  },
  {
    id: 'ha-all-ip-srv127',
    title: 'Add srv159 to KB_ALL_IP on srv127',
    target: 'srv127',
    action: {
      kind: 'file-edit',
      path: `${ESHA}/db/etc/HAmodule.conf`,
      expectedSha256: SHA_HA,
      edit: { type: 'shell-array-add', name: 'KB_ALL_IP', values: ['192.168.4.159'] },
    },
    timeoutMs: 10_000,
    mutates: true,
    undo: [{ kind: 'file-restore', path: `${ESHA}/db/etc/HAmodule.conf`, editStepId: 'ha-all-ip-srv127' }],
    effect: {
      probe: {
        kind: 'ssh',
        argv: ['grep', '-q', 'KB_ALL_IP=(.*192.168.4.159', `${ESHA}/db/etc/HAmodule.conf`],
      },
      present: { kind: 'exit-code', equals: 0 },
    },
  },
  {
    id: 'start-standby',
    title: 'Start the new standby',
    target: 'srv159',
    action: {
      kind: 'ssh',
      argv: [`${BIN}/sys_ctl`, 'start', '-w', '-D', DATA, '-l', `${ESHA}/log/kingbase start.log`],
      okExitCodes: [0],
    },
    timeoutMs: 120_000,
    mutates: true,
    undo: [{ kind: 'ssh', argv: [`${BIN}/sys_ctl`, 'stop', '-m', 'fast', '-D', DATA] }],
    effect: {
      probe: { kind: 'ssh', argv: [`${BIN}/sys_ctl`, 'status', '-D', DATA] },
      present: { kind: 'exit-code', equals: 0 },
    },
  },
  {
    id: 'wait-streaming',
    title: 'Wait until srv159 streams from the primary',
    target: 'srv127',
    action: {
      kind: 'wait-until',
      probe: {
        kind: 'sql',
        sql: 'select state, sys_xlog_location_diff(sent_location, replay_location) as lag\n  from sys_stat_replication\n where application_name = $1',
        params: ['srv159'],
        database: 'TEST',
      },
      until: {
        kind: 'all',
        of: [
          { kind: 'row-count', min: 1, max: 1 },
          { kind: 'column-equals', column: 'state', value: 'streaming' },
        ],
      },
      intervalMs: 5_000,
    },
    timeoutMs: 600_000,
    mutates: false,
    undo: null,
  },
  {
    id: 'stop-old-standby',
    title: 'Failover test: stop srv129',
    target: 'srv129',
    action: { kind: 'ssh', argv: [`${BIN}/sys_ctl`, 'stop', '-m', 'fast', '-D', DATA] },
    timeoutMs: 120_000,
    mutates: true,
    undo: [
      { kind: 'ssh', argv: [`${BIN}/sys_ctl`, 'start', '-w', '-D', DATA, '-l', `${ESHA}/log/kingbase.log`] },
    ],
    effect: {
      probe: { kind: 'ssh', argv: [`${BIN}/sys_ctl`, 'status', '-D', DATA] },
      present: { kind: 'not', of: { kind: 'exit-code', equals: 0 } },
    },
    approvals: 2,
    note: 'Part of the failover test: a second person must agree before a node goes down.',
  },
];

export function samplePlanUnsealed(): Plan {
  return {
    formatVersion: 1,
    runbook: { id: 'add-node', version: 1 },
    cluster: 'ESHA',
    dialect: 'kingbase-v8r3',
    params: { name: 'srv159', host: '192.168.4.159' },
    requester: 'UREQ',
    createdAt: '2024-05-01T10:00:00.000Z',
    targets: {
      srv159: { name: 'srv159', host: '192.168.4.159', sshPort: 22, sqlPort: 54321 },
      srv127: { name: 'srv127', host: '192.168.4.127', sshPort: 22, sqlPort: 54321, database: 'TEST' },
      srv129: { name: 'srv129', host: '192.168.4.129', sshPort: 2222, sqlPort: 54321, database: 'TEST' },
    },
    snapshot: { primary: 'srv127', standbys: ['srv129'], poolNodes: 2 },
    steps,
  };
}

export const samplePlan = (): SealedPlan => sealPlan(samplePlanUnsealed());
