import { tailLogsOnFailure } from '../../../src/shell/shell-command';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labLayout } from '../../../lab/lab-layout';
import { haModuleConf, labInventory, pgHbaConf, pgpoolConf } from '../../../lab/lab-files';
import { parseInventory } from '../../../src/config/load-inventory';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import type { Action, SealedPlan, Step } from '../../../src/core/plan';
import { parsePlan, planProblems } from '../../../src/core/plan-schema';
import { renderPlan } from '../../../src/core/render-plan';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import type { AddNodeParams } from '../../../src/runbooks/add-node/add-node-params';
import { addNodeRunbook } from '../../../src/runbooks/add-node/add-node-runbook';
import { resolveInput } from '../../../src/runbooks/prepare-run';
import {
  hbaReplicationMethod,
  managerBackends,
  shellArrayValues,
  usesBackendApplicationName,
  type HaModuleFact,
  type NodeFacts,
} from '../../../src/cluster/cluster-facts';
import type { AddNodeSnapshot } from '../../../src/runbooks/add-node/add-node-snapshot';
import { PASSWORD_TOKEN, planAddNode } from '../../../src/runbooks/add-node/plan-add-node';
import { stdinSecretToEnv, stdinSecretToPcpPass } from '../../../src/shell/shell-command';
import { fillOwnedDir, REFUSED_EXIT, startClaimed, stopClaimed } from '../../../src/shell/owned-paths';

// The lab's shape (PostgreSQL 15 + pgpool-II 4.3, ../lab): srv11 primary, srv12 standby, pgpool on
// 127.0.0.10; srv13 (127.0.0.13) is added. Standby settings go to standby.signal + auto.conf, the pool
// takes the node online. UPDATE_GOLDEN=1 rewrites the golden file; review the diff before committing.

const GOLDEN = join(__dirname, '..', '..', 'golden', 'add-node-postgresql-lab.txt');
const lab = labLayout({ root: '/var/lib/kbops-lab' });
const [h11, h12, h13] = lab.hosts;
const sha = (tag: string): string => tag.padEnd(4, '0').repeat(16);

const ha = (host: (typeof lab.hosts)[number]): HaModuleFact => {
  const text = haModuleConf(lab, host);
  return {
    path: `${host.etcDir}/HAmodule.conf`,
    sha256: sha(`e${host.name.slice(3)}`),
    allIps: shellArrayValues(text, 'KB_ALL_IP'),
    hasNodeName: false,
  };
};

const place = (h: (typeof lab.hosts)[number]) => ({
  name: h.name,
  host: h.address,
  sshPort: 22,
  sqlPort: lab.sqlPort,
  dataDir: h.dataDir,
  binDir: h.binDir,
  clusterPath: h.clusterPath,
});

function node(h: (typeof lab.hosts)[number], inRecovery: boolean): NodeFacts {
  return {
    ...place(h),
    inRecovery,
    hba: {
      path: `${h.dataDir}/pg_hba.conf`,
      sha256: sha(`a${h.name.slice(3)}`),
      authMethod: hbaReplicationMethod(pgHbaConf(lab)),
    },
    haModule: ha(h),
    // Only manager nodes are asked for a kingbasecluster copy; the lab has none.
    ...(h === h11 && { managerHaModule: null }),
  };
}

function labSnapshot(
  primary: { listenAddresses?: string | null; weights?: [number, number] } = {},
): AddNodeSnapshot {
  const conf = pgpoolConf(lab).replace(
    /backend_weight(\d) = 1/g,
    (_, i: string) => `backend_weight${i} = ${primary.weights?.[Number(i)] ?? 1}`,
  );
  return {
    takenAt: '2026-11-21T00:20:00.000Z',
    nodes: [node(h11, false), node(h12, true)],
    primary: {
      name: h11.name,
      serverMajor: 15,
      databaseBytes: 7_700_000,
      maxWalSenders: 10,
      maxReplicationSlots: 10,
      maxConnections: 100,
      walLevel: 'replica',
      listenAddresses: primary.listenAddresses === undefined ? h11.address : primary.listenAddresses,
      port: lab.sqlPort,
      serverConf: { path: `${h11.dataDir}/postgresql.conf`, sha256: sha('c0f1') },
      autoConf: { path: `${h11.dataDir}/postgresql.auto.conf`, sha256: sha('a0c0') },
      etcServerConf: null,
      etcRecoveryDone: null,
      replication: [{ applicationName: h12.name, state: 'streaming' }],
      slots: [
        { name: h11.slot, active: false },
        { name: h12.slot, active: true },
      ],
    },
    managers: [
      {
        node: h11.name,
        host: lab.poolAddress,
        sqlPort: lab.pool.sqlPort,
        pcpPort: lab.pool.pcpPort,
        configFile: lab.pool.conf,
        config: { path: lab.pool.conf, sha256: sha('b011') },
        backends: managerBackends(conf),
        usesApplicationName: usesBackendApplicationName(conf),
        poolNodes: [h11, h12].map((h, i) => ({
          ...{ nodeId: i, hostname: h.address, port: lab.sqlPort, status: 'up' },
          ...{ role: i === 0 ? 'primary' : 'standby', lbWeight: 0.5 },
        })),
      },
    ],
    newHost: {
      ...place(h13),
      reachable: true,
      dataDirState: 'absent',
      sqlPortInUse: false,
      freeBytes: 20 * 1024 ** 3,
      serverMajor: 15,
      crondRunning: false,
      firewall: 'unknown',
      selinux: 'absent',
      haModule: ha(h13),
      etcServerConf: null,
      recoveryDone: null,
      logDirExists: true,
    },
  };
}

let cluster: ClusterConfig;
let plan: SealedPlan;

async function labPlan(snapshot: AddNodeSnapshot): Promise<SealedPlan> {
  const r = resolveInput(
    addNodeRunbook,
    { cluster: 'lab', host: h13.address },
    { clusters: { lab: cluster }, reports: [] },
  );
  if (!r.ok) throw new Error(r.failure.message);
  return planAddNode({
    params: r.params as AddNodeParams,
    dialect: pg,
    snapshot,
    requester: 'U_REQ',
    now: new Date('2026-11-21T00:21:00.000Z'),
  });
}

beforeAll(async () => {
  const r = await parseInventory(labInventory(lab), 'lab inventory', { env: {}, checkFiles: false });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  cluster = r.inventory.clusters.lab!;
  plan = await labPlan(labSnapshot());
});

const find = (p: SealedPlan, id: string): Step => {
  const s = p.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${p.steps.map((x) => x.id).join(', ')}`);
  return s;
};
const at = (id: string): number => plan.steps.indexOf(find(plan, id));
const editOf = (s: Step): Extract<Action, { kind: 'file-edit' }> => {
  if (s.action.kind !== 'file-edit') throw new Error(`${s.id} is not a file edit`);
  return s.action;
};

const kbopsDir13 = (): string => `${h13.dataDir.replace(/\/db\/data$/, '')}/.kbops`;
const key = (): string =>
  /\/([0-9a-f]{12})-hba-srv11\.bak$/.exec(editOf(find(plan, 'hba-srv11')).backup!)![1]!;

describe('planAddNode: the lab cluster on PostgreSQL + pgpool-II', () => {
  it('matches the golden plan', () => {
    const text = renderPlan(plan);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    expect(existsSync(GOLDEN)).toBe(true);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('is a valid plan that survives a JSON round trip', () => {
    expect(planProblems(plan)).toEqual([]);
    expect(parsePlan(JSON.parse(JSON.stringify(plan)))).toEqual({ ok: true, plan });
  });

  it('marks the standby with standby.signal and points it at the primary in postgresql.auto.conf', () => {
    expect(editOf(find(plan, 'standby-signal'))).toEqual({
      kind: 'file-edit',
      path: `${h13.dataDir}/standby.signal`,
      expectedSha256: null,
      backup: `${kbopsDir13()}/${key()}-standby-signal.bak`,
      edit: { type: 'replace', content: '' },
      mode: 0o600,
    });
    expect(editOf(find(plan, 'standby-conninfo'))).toEqual({
      kind: 'file-edit',
      path: `${h13.dataDir}/postgresql.auto.conf`,
      expectedSha256: sha('a0c0'), // the primary's, as the base backup copied it
      edit: {
        type: 'set-keys',
        entries: {
          primary_conninfo: `'port=54321 host=127.0.0.11 user=SYSTEM password=${PASSWORD_TOKEN} application_name=srv13'`,
          primary_slot_name: "'slot_srv13'",
        },
      },
      mode: 0o600,
      secrets: [{ token: PASSWORD_TOKEN, secret: 'db.password', encoding: 'conninfo' }],
      backup: `${kbopsDir13()}/${key()}-standby-conninfo.bak`,
    });
    // Backups of files in the data directory are kept outside it: no later base backup copies them.
    for (const s of plan.steps) {
      if (s.action.kind === 'file-edit') expect(s.action.backup!.startsWith(`${h13.dataDir}/`)).toBe(false);
    }
    const v8r3Only = ['recovery-conf', 'recovery-done', 'etc-node-conf', 'copy-cluster-files', 'archivedir'];
    expect(plan.steps.filter((s) => v8r3Only.includes(s.id))).toEqual([]);
    expect(at('standby-conninfo')).toBeGreaterThan(at('basebackup'));
    expect(at('standby-conninfo')).toBeLessThan(at('start'));
  });

  it('creates the slot on the primary only, before the backup, and allows the host with scram /32 lines', () => {
    expect(plan.steps.filter((s) => s.id.startsWith('slot-')).map((s) => s.target)).toEqual(['srv11']);
    expect(at('slot-srv11')).toBeLessThan(at('basebackup'));
    for (const n of ['srv11', 'srv12']) {
      expect(editOf(find(plan, `hba-${n}`)).edit).toEqual({
        type: 'append-lines',
        lines: [
          'host    all             SYSTEM    127.0.0.13/32    scram-sha-256',
          'host    replication     SYSTEM    127.0.0.13/32    scram-sha-256',
        ],
      });
      expect(at(`reload-${n}`)).toBeLessThan(at('basebackup'));
    }
  });

  it('runs pg_basebackup with -X stream and -w, the password in PGPASSWORD from stdin', () => {
    const bb = find(plan, 'basebackup');
    const marker = `${kbopsDir13()}/${key()}-basebackup.made`;
    expect(bb.action).toEqual({
      kind: 'ssh',
      // Only into an empty directory, claimed for this plan first, so its undo empties only that.
      argv: fillOwnedDir(
        marker,
        h13.dataDir,
        key(),
        stdinSecretToEnv(
          ['PGPASSWORD'],
          [
            `${h13.binDir}/pg_basebackup`,
            ...['-h', '127.0.0.11', '-p', '54321', '-U', 'SYSTEM', '-D', h13.dataDir],
            ...['-F', 'p', '-X', 'stream', '-S', 'slot_srv13', '-P', '-v', '-c', 'fast', '-w'],
          ],
        ),
      ),
      stdinSecret: 'db.password',
      progress: { kind: 'basebackup' },
      refusedExitCodes: [REFUSED_EXIT],
    });
    // Judged by progress: ten minutes without any fails it; the outer bound is hours, not 30 minutes.
    expect(bb.stallMs).toBe(10 * 60_000);
    expect(bb.timeoutMs).toBeGreaterThanOrEqual(2 * 3600_000);
  });

  it('adds backend 2 with its application_name, reloads pgpool and attaches it online with pcp_attach_node', () => {
    const conf = find(plan, 'pool-conf-srv11');
    expect(editOf(conf).edit).toEqual({
      type: 'set-keys',
      entries: {
        backend_hostname2: "'127.0.0.13'",
        backend_port2: '54321',
        backend_weight2: '1',
        backend_data_directory2: `'${h13.dataDir}'`,
        backend_flag2: "'ALLOW_TO_FAILOVER'",
        backend_application_name2: "'srv13'",
      },
    });
    const reload = { kind: 'ssh', argv: ['/usr/sbin/pgpool', '-f', lab.pool.conf, 'reload'] };
    expect(conf.undo).toEqual([
      { kind: 'file-restore', path: lab.pool.conf, editStepId: 'pool-conf-srv11' },
      reload,
    ]);
    expect(find(plan, 'pool-reload-srv11').action).toEqual(reload);
    const pcp = (tool: string) =>
      stdinSecretToPcpPass('127.0.0.10', 9898, 'SYSTEM', [
        `/usr/sbin/${tool}`,
        ...['-h', '127.0.0.10', '-p', '9898', '-U', 'SYSTEM', '-w', '-n', '2'],
      ]);
    const attach = find(plan, 'pool-attach');
    expect(attach.action).toEqual({ kind: 'ssh', argv: pcp('pcp_attach_node'), stdinSecret: 'pcp.password' });
    expect(attach.undo).toEqual([
      { kind: 'ssh', argv: pcp('pcp_detach_node'), stdinSecret: 'pcp.password', okExitCodes: [0, 1] },
    ]);
    expect(attach.effect?.present).toEqual({ kind: 'some-row', where: { node_id: '2', status: 'up' } });
    expect(at('pool-reload-srv11')).toBeLessThan(at('pool-attach'));
    expect(at('wait-streaming')).toBeLessThan(at('pool-attach'));
    expect(JSON.stringify(plan.steps)).not.toMatch(/pool-stop|pool-start|pcp_node_refresh/);
  });

  it('counts the reloads as changes: only the waits and the verdict are read-only', () => {
    expect(plan.steps.filter((s) => !s.mutates).map((s) => s.id)).toEqual(['wait-streaming', 'verdict']);
    expect(find(plan, 'reload-srv11')).toMatchObject({
      mutates: true,
      undo: [],
      effect: {
        probe: {
          kind: 'sql',
          sql: "select pg_conf_load_time() >= (pg_stat_file(current_setting('hba_file'))).modification as loaded",
          params: [],
        },
        present: { kind: 'column-equals', column: 'loaded', value: true },
      },
    });
    // A backend a rolled-back attempt told pgpool about stays listed until a restart, so "the pool
    // lists it" cannot tell a reload happened: the reload is run again after a crash instead.
    const reload = find(plan, 'pool-reload-srv11');
    expect(reload).toMatchObject({ mutates: true, undo: [], idempotent: true });
    expect(reload.effect).toBeUndefined();
  });

  it('expects lb_weight 0.333333 for three nodes of weight 1, and follows the configured weights', async () => {
    const poolCheck = (p: SealedPlan) => {
      const v = find(p, 'verdict').action;
      if (v.kind !== 'verdict') throw new Error('no verdict');
      return v.checks.find((c) => c.kind === 'probe' && c.target === 'pool-srv11');
    };
    expect(poolCheck(plan)).toMatchObject({
      expect: {
        kind: 'some-row',
        where: { hostname: '127.0.0.13', status: 'up', role: 'standby', lb_weight: '0.333333' },
      },
    });
    const weighted = await labPlan(labSnapshot({ weights: [2, 1] }));
    expect(poolCheck(weighted)).toMatchObject({ expect: { where: { lb_weight: '0.250000' } } });
  });

  it("re-pins listen_addresses only when the primary's config pins its own address", async () => {
    const keys = (p: SealedPlan) => {
      const e = editOf(find(p, 'node-conf')).edit;
      return e.type === 'set-keys' ? e.entries : null;
    };
    expect(editOf(find(plan, 'node-conf')).path).toBe(`${h13.dataDir}/postgresql.conf`);
    expect(keys(plan)).toEqual({ port: '54321', hot_standby: 'on', listen_addresses: "'127.0.0.13'" });
    expect(keys(await labPlan(labSnapshot({ listenAddresses: "'127.0.0.11'" })))).toMatchObject({
      listen_addresses: "'127.0.0.13'",
    });
    for (const other of ['*', 'localhost', '0.0.0.0', null]) {
      expect(keys(await labPlan(labSnapshot({ listenAddresses: other })))).toEqual({
        port: '54321',
        hot_standby: 'on',
      });
    }
  });

  it("starts the node with its log in the cluster's log directory", () => {
    const LOG = `${h13.logDir}/srv13-start.log`;
    const start = [`${h13.binDir}/pg_ctl`, ...['start', '-w', '-t', '300', '-D', h13.dataDir], '-l', LOG];
    // On failure the end of the start log and of the server's own log directory is kept.
    const logs = [LOG, `${h13.dataDir}/sys_log`, `${h13.dataDir}/log`, `${h13.dataDir}/pg_log`];
    const marker = `${kbopsDir13()}/${key()}-start.made`;
    const pid = `${h13.dataDir}/postmaster.pid`;
    expect(find(plan, 'start').action).toEqual({
      kind: 'ssh',
      argv: startClaimed(marker, key(), pid, tailLogsOnFailure(logs, start)),
      refusedExitCodes: [REFUSED_EXIT],
    });
    // Its undo stops only the server this plan started.
    expect(find(plan, 'start').undo).toEqual([
      {
        kind: 'ssh',
        argv: stopClaimed(marker, key(), pid, [
          `${h13.binDir}/pg_ctl`,
          ...['stop', '-w', '-t', '120', '-m', 'fast', '-D', h13.dataDir],
        ]),
      },
    ]);
  });
});
