import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import type { Action, FileEdit, SealedPlan, Step } from '../../../src/core/plan';
import { parsePlan, planProblems } from '../../../src/core/plan-schema';
import { renderPlan } from '../../../src/core/render-plan';
import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { parsePoolNodes } from '../../../src/probes/pool-nodes';
import { parseReplication } from '../../../src/probes/replication';
import { parseSlots } from '../../../src/probes/slots';
import { PASSWORD_TOKEN, planAddNode } from '../../../src/runbooks/add-node/plan-add-node';
import { createClaimed, fillOwnedDir, makeOwnedDir, REFUSED_EXIT } from '../../../src/shell/owned-paths';
import { stdinSecretToEnv } from '../../../src/shell/shell-command';
import { fixtureRows, fixtureText, valueOf } from '../probes/fixture';
import {
  BIN,
  DATA,
  ESHA,
  NEW_HOST,
  POOL_CONF,
  SHA,
  writeupCluster,
  writeupParams,
  writeupSnapshot,
} from './writeup-snapshot';

// The write-up's expansion (srv159 joins srv127 + srv129) planned for KingbaseES V8R3. The golden
// pins every detail; the other tests say what must hold whatever the golden says.
// UPDATE_GOLDEN=1 rewrites the golden file; review the diff before committing it.

const GOLDEN = join(__dirname, '..', '..', 'golden', 'add-node-v8r3-writeup.txt');
const NOW = new Date('2020-10-23T12:00:00.000Z');
const PASSWORD = 'Zq7!distinctive "pw" $(x)';

let cluster: ClusterConfig;
let plan: SealedPlan;

beforeAll(async () => {
  cluster = await writeupCluster();
  plan = planAddNode({
    params: writeupParams(cluster),
    dialect: kb,
    snapshot: writeupSnapshot(),
    requester: 'U_REQ',
    now: NOW,
  });
});

const ids = (): string[] => plan.steps.map((s) => s.id);
const at = (id: string): number => {
  const i = ids().indexOf(id);
  if (i < 0) throw new Error(`no step ${id} in ${ids().join(', ')}`);
  return i;
};
const step = (id: string): Step => plan.steps[at(id)]!;
const argvOf = (a: Action): readonly string[] => {
  if (a.kind !== 'ssh') throw new Error(`expected an ssh action, got ${a.kind}`);
  return a.argv;
};
const editOf = (s: Step): Extract<Action, { kind: 'file-edit' }> => {
  if (s.action.kind !== 'file-edit') throw new Error(`${s.id} is not a file edit`);
  return s.action;
};
/** Backups and markers live in kbops's directory beside the cluster, never in a data directory. */
const KBOPS_DIR = `${ESHA}/.kbops`;
const kept = (stepId: string) =>
  expect.stringMatching(new RegExp(`^${KBOPS_DIR}/[0-9a-f]{12}-${stepId}\\.bak$`));
const keyOf = (): string =>
  /^[0-9a-f]{12}/.exec(editOf(step('hba-srv127')).backup!.slice(KBOPS_DIR.length + 1))![0];
const marker = (stepId: string) => `${KBOPS_DIR}/${keyOf()}-${stepId}.made`;
const editsIn = (e: FileEdit): FileEdit[] => (e.type === 'edits' ? e.edits.flatMap(editsIn) : [e]);

/** key → value of a small key = 'value' file (recovery.conf), whitespace around `=` ignored. */
function confEntries(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([a-z_]+)\s*=\s*(.*?)\s*$/.exec(line.replace(/^#.*/, ''));
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

describe('planAddNode: the write-up cluster on KingbaseES V8R3', () => {
  it('matches the golden plan', () => {
    const text = renderPlan(plan);
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    expect(existsSync(GOLDEN)).toBe(true);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('plans from a snapshot that agrees with the write-up outputs', () => {
    const snap = writeupSnapshot();
    const pool = valueOf(parsePoolNodes(fixtureRows('writeup/pool-nodes-two-up.txt')));
    for (const m of snap.managers) {
      const fields = ['nodeId', 'hostname', 'port', 'status', 'role', 'lbWeight'] as const;
      expect(m.poolNodes).toEqual(pool.map((p) => Object.fromEntries(fields.map((f) => [f, p[f]]))));
      expect(m.backends.map((b) => [b.index, b.hostname])).toEqual(pool.map((p) => [p.nodeId, p.hostname]));
    }
    const slots = valueOf(parseSlots(fixtureRows('writeup/slots-before.txt')));
    expect(snap.primary?.slots).toEqual(slots.map((s) => ({ name: s.name, active: s.active })));
    const repl = valueOf(parseReplication(fixtureRows('writeup/replication-one-standby.txt'), kb));
    expect(snap.primary?.replication).toEqual(
      repl.map((r) => ({ applicationName: r.applicationName, state: r.state })),
    );
  });

  it('is a valid plan: no cross-field problems, and its JSON round trip parses to the same plan', () => {
    expect(planProblems(plan)).toEqual([]);
    expect(parsePlan(JSON.parse(JSON.stringify(plan)))).toEqual({ ok: true, plan });
  });

  it('creates the slot on the primary (reserving WAL) before the base backup, and on the standby too', () => {
    const slot = step('slot-srv127');
    expect(slot.target).toBe('srv127');
    expect(slot.action).toEqual({
      kind: 'sql',
      sql: 'select slot_name from sys_create_physical_replication_slot($1, true)',
      params: ['slot_srv159'],
    });
    expect(at('slot-srv127')).toBeLessThan(at('basebackup'));
    expect(step('slot-srv129').target).toBe('srv129');
    expect(at('slot-srv129')).toBeLessThan(at('basebackup'));
    // Undone only once nothing streams from it (the new node is stopped before), and never while active.
    expect(slot.undo).toEqual([
      {
        kind: 'wait-until',
        probe: {
          kind: 'sql',
          sql: 'select count(*)::int as active from sys_replication_slots where slot_name = $1 and active',
          params: ['slot_srv159'],
        },
        until: { kind: 'column-equals', column: 'active', value: 0 },
        intervalMs: 500,
      },
      {
        kind: 'sql',
        sql: 'select sys_drop_replication_slot(slot_name) from sys_replication_slots where slot_name = $1 and not active',
        params: ['slot_srv159'],
      },
    ]);
    expect(plan.guards).toContainEqual(
      expect.objectContaining({
        name: 'no replication slot slot_srv159',
        target: 'srv127',
        until: 'slot-srv127',
      }),
    );
  });

  it('allows the new host in sys_hba.conf on both nodes (md5, /32) and reloads them, before the backup', () => {
    for (const node of ['srv127', 'srv129']) {
      const hba = step(`hba-${node}`);
      expect(hba.target).toBe(node);
      expect(editOf(hba)).toEqual({
        kind: 'file-edit',
        path: `${DATA}/sys_hba.conf`,
        expectedSha256: node === 'srv127' ? SHA.hba127 : SHA.hba129,
        backup: kept(`hba-${node}`),
        edit: {
          type: 'append-lines',
          lines: [
            'host    all             SYSTEM    192.168.4.159/32    md5',
            'host    replication     SYSTEM    192.168.4.159/32    md5',
          ],
        },
      });
      expect(at(`hba-${node}`)).toBeLessThan(at(`reload-${node}`));
      expect(at(`reload-${node}`)).toBeLessThan(at('basebackup'));
      expect(step(`reload-${node}`).action).toMatchObject({ kind: 'sql', sql: 'select sys_reload_conf()' });
    }
  });

  it('writes recovery.conf with the write-up lines, the password base64-encoded in place of the token', () => {
    const edit = editOf(step('recovery-conf'));
    expect(edit.path).toBe(`${DATA}/recovery.conf`);
    expect(edit.expectedSha256).toBeNull();
    expect(edit.mode).toBe(0o600);
    expect(edit.secrets).toEqual([{ token: PASSWORD_TOKEN, secret: 'db.password', encoding: 'base64' }]);
    if (edit.edit.type !== 'replace') throw new Error('recovery.conf must be written whole');
    expect(edit.edit.content).toBe(
      [
        "standby_mode = 'on'",
        `primary_conninfo = 'port=54321 host=192.168.4.127 user=SYSTEM password=${PASSWORD_TOKEN} application_name=srv159'`,
        "recovery_target_timeline = 'latest'",
        "primary_slot_name = 'slot_srv159'",
        '',
      ].join('\n'),
    );
    // The write-up's file, with 123456 where the executor puts the base64 of the real password.
    const written = edit.edit.content.replace(PASSWORD_TOKEN, kb.conninfoPasswordText('123456'));
    expect(confEntries(written)).toEqual(confEntries(fixtureText('writeup/recovery-conf.txt')));
  });

  it('writes the same content to db/etc/recovery.done on the new node, guarded by the copied file', () => {
    const done = step('recovery-done');
    const conf = editOf(step('recovery-conf'));
    expect(done.target).toBe('srv159');
    expect(editOf(done)).toEqual({
      ...conf,
      path: `${ESHA}/db/etc/recovery.done`,
      expectedSha256: SHA.etcRecoveryDone,
      backup: kept('recovery-done'),
    });
    expect(at('copy-cluster-files')).toBeLessThan(at('recovery-done'));
  });

  it('runs sys_basebackup with -X stream and never -W, the password coming from stdin', () => {
    const bb = step('basebackup');
    expect(bb.target).toBe('srv159');
    expect(bb.action).toMatchObject({
      kind: 'ssh',
      stdinSecret: 'db.password',
      progress: { kind: 'basebackup' },
    });
    const argv = argvOf(bb.action);
    const args = ['-h', '192.168.4.127', '-p', '54321', '-U', 'SYSTEM', '-D', DATA];
    const tail = ['-F', 'p', '-X', 'stream', '-S', 'slot_srv159', '-P', '-v', '-c', 'fast'];
    const env = ['KINGBASE_PASSWORD', 'PGPASSWORD'];
    // Refused unless the data directory is empty; claimed for this plan before the copy starts.
    const inner = stdinSecretToEnv(env, [`${BIN}/sys_basebackup`, ...args, ...tail]);
    expect(argv).toEqual(fillOwnedDir(marker('basebackup'), DATA, keyOf(), inner));
    expect(bb.action).toMatchObject({ refusedExitCodes: [REFUSED_EXIT] });
    expect(bb.stallMs).toBe(10 * 60_000);
    expect(argv[argv.indexOf('-X') + 1]).toBe('stream');
    expect(argv.filter((a) => /^-W/.test(a) || /^--pass/.test(a))).toEqual([]);
    expect(argv.join(' ')).not.toMatch(/password=|123456/i);
    expect(at('datadir')).toBeLessThan(at('basebackup'));
    expect(argvOf(step('datadir').action)).toEqual(makeOwnedDir(marker('datadir'), DATA, keyOf()));
  });

  it('copies the cluster files as the OS user, template.bk to the cluster path, never kingbasecluster/', () => {
    const mkdir = argvOf(step('archivedir').action);
    expect(mkdir).toEqual(
      makeOwnedDir(marker('archivedir'), `${ESHA}/archivedir`, keyOf(), '0700', [`${ESHA}/db`]),
    );
    expect(at('archivedir')).toBeLessThan(at('copy-cluster-files'));
    const copy = argvOf(step('copy-cluster-files').action);
    const src = (p: string) => `kingbase@192.168.4.127:${ESHA}/${p}`;
    const dirs = ['db/bin', 'db/etc', 'db/lib', 'db/share'];
    expect(copy).toEqual(
      createClaimed(
        marker('copy-cluster-files'),
        keyOf(),
        dirs.map((d) => `${ESHA}/${d}`),
        [...['scp', '-rpq', '-o', 'BatchMode=yes'], ...dirs.map(src), `${ESHA}/db`],
      ),
    );
    expect(argvOf(step('copy-template').action).slice(-2)).toEqual([
      src('template.bk'),
      `${ESHA}/template.bk`,
    ]);
    const copies = plan.steps
      .filter((s) => s.id.startsWith('copy-'))
      .map((s) => argvOf(s.action).slice(argvOf(s.action).indexOf('scp')).join(' '));
    expect(copies).toHaveLength(2);
    for (const argv of copies) expect(argv).not.toMatch(/kingbasecluster|SYSTEM@/);
  });

  it('adds backend 2 to kingbasecluster.conf on both manager nodes', () => {
    for (const node of ['srv127', 'srv129']) {
      const s = step(`pool-conf-${node}`);
      expect(s.target).toBe(`pool-${node}`);
      expect(editOf(s)).toEqual({
        kind: 'file-edit',
        path: POOL_CONF,
        expectedSha256: node === 'srv127' ? SHA.pool127 : SHA.pool129,
        backup: kept(`pool-conf-${node}`),
        edit: {
          type: 'set-keys',
          entries: {
            backend_hostname2: `'${NEW_HOST}'`,
            backend_port2: '54321',
            backend_weight2: '1',
            backend_data_directory2: `'${DATA}'`,
            backend_flag2: "'ALLOW_TO_FAILOVER'",
          },
        },
      });
    }
    expect(plan.targets['pool-srv129']).toEqual({
      name: 'pool-srv129',
      host: '192.168.4.129',
      sshPort: 22,
      sqlPort: 9999,
      sqlHost: '192.168.4.129',
    });
  });

  it("restarts kingbasecluster in the write-up's order (no online attach on V8R3), after both edits", () => {
    expect(ids().filter((id) => /^pool-(stop|start)-/.test(id))).toEqual(
      ['stop-srv129', 'stop-srv127', 'start-srv127', 'start-srv129'].map((id) => `pool-${id}`),
    );
    expect(at('pool-conf-srv129')).toBeLessThan(at('pool-stop-srv129'));
    expect(at('pool-start-srv129')).toBeLessThan(at('pool-ready'));
    const kbc = `${ESHA}/kingbasecluster/bin/kingbasecluster`;
    expect(argvOf(step('pool-stop-srv129').action)).toEqual([kbc, '-f', POOL_CONF, '-m', 'fast', 'stop']);
    expect(argvOf(step('pool-start-srv127').action)).toEqual([kbc, '-f', POOL_CONF]);
    expect(JSON.stringify(plan.steps)).not.toMatch(/pcp_attach_node|pcp_node_refresh/);
  });

  it('counts every reload, stop and start as a change: only waits and the verdict are read-only', () => {
    expect(plan.steps.filter((s) => !s.mutates).map((s) => s.id)).toEqual([
      'wait-streaming',
      'pool-ready',
      'verdict',
    ]);
    for (const s of plan.steps.filter((x) => !x.mutates))
      expect(['wait-until', 'verdict']).toContain(s.action.kind);
  });

  it("stops and starts kingbasecluster as changes the config edit's undo reverses, seen by the pool's own backends", () => {
    const listsSrv159 = {
      probe: { kind: 'sql', sql: 'show pool_nodes', params: [] },
      present: { kind: 'some-row', where: { node_id: '2', hostname: NEW_HOST } },
    };
    const kbc = `${ESHA}/kingbasecluster/bin/kingbasecluster`;
    for (const node of ['srv127', 'srv129']) {
      for (const id of [`pool-stop-${node}`, `pool-start-${node}`]) {
        // Nothing of their own to undo: a start in a stop's undo would fail on a manager that runs
        // again, or start it with the settings being rolled back before the old file is back.
        expect(step(id)).toMatchObject({ mutates: true, undo: [], effect: listsSrv159 });
        expect(step(id).note).toContain(`undoing pool-conf-${node}`);
      }
      // …which the config edit's undo does: the old file back, then a stop and a start.
      expect(step(`pool-conf-${node}`).undo).toEqual([
        { kind: 'file-restore', path: POOL_CONF, editStepId: `pool-conf-${node}` },
        { kind: 'ssh', argv: [kbc, '-f', POOL_CONF, '-m', 'fast', 'stop'], okExitCodes: [0, 1] },
        { kind: 'ssh', argv: [kbc, '-f', POOL_CONF] },
      ]);
      expect(at(`pool-conf-${node}`)).toBeLessThan(at(`pool-stop-${node}`));
    }
  });

  it("reloads each node as a change whose effect is the server's load time after its hba file's", () => {
    for (const node of ['srv127', 'srv129']) {
      expect(step(`reload-${node}`)).toMatchObject({
        mutates: true,
        undo: [],
        effect: {
          probe: {
            kind: 'sql',
            sql: "select sys_conf_load_time() >= (sys_stat_file(current_setting('hba_file'))).modification as loaded",
          },
          present: { kind: 'column-equals', column: 'loaded', value: true },
        },
      });
      // The hba edit's undo puts the file back and reloads again.
      expect(step(`hba-${node}`).undo).toContainEqual({
        kind: 'sql',
        sql: 'select sys_reload_conf()',
        params: [],
      });
    }
  });

  it('adds the new address to KB_ALL_IP on all three hosts and sets KB_LOCALHOST_IP on the new one', () => {
    const ha = plan.steps.filter(
      (s) => s.action.kind === 'file-edit' && s.action.path.endsWith('/HAmodule.conf'),
    );
    expect(ha.map((s) => [s.target, editOf(s).path])).toEqual([
      ['srv127', `${ESHA}/db/etc/HAmodule.conf`],
      ['srv127', `${ESHA}/kingbasecluster/etc/HAmodule.conf`],
      ['srv129', `${ESHA}/db/etc/HAmodule.conf`],
      ['srv129', `${ESHA}/kingbasecluster/etc/HAmodule.conf`],
      ['srv159', `${ESHA}/db/etc/HAmodule.conf`],
    ]);
    const add = { type: 'shell-array-add', name: 'KB_ALL_IP', values: [NEW_HOST] };
    for (const s of ha) expect(editsIn(editOf(s).edit)).toContainEqual(add);
    const own = editOf(step('ha-srv159'));
    const local = { type: 'shell-var-set', name: 'KB_LOCALHOST_IP', value: NEW_HOST };
    expect(editsIn(own.edit)).toEqual([add, local]);
    expect(own.expectedSha256).toBe(SHA.ha127); // the primary's file, as the copy brought it
  });

  it('ends with a verdict expecting srv159 streaming and listed up at lb_weight 0.333333 in both pools', () => {
    const v = step('verdict');
    if (v.action.kind !== 'verdict') throw new Error('no verdict');
    const pools = v.action.checks.filter((c) => c.kind === 'probe' && c.target.startsWith('pool-'));
    expect(pools.map((c) => (c.kind === 'probe' ? [c.target, c.expect] : null))).toEqual(
      ['pool-srv127', 'pool-srv129'].map((t) => [
        t,
        {
          kind: 'some-row',
          where: { hostname: NEW_HOST, status: 'up', role: 'standby', lb_weight: '0.333333' },
        },
      ]),
    );
    expect(ids().slice(-3)).toEqual(['marker', 'verdict', 'drop-marker']);
  });

  it('never holds the password, not even when it is in the environment', () => {
    const before = process.env.KBOPS_ESHA_DB_PASSWORD;
    process.env.KBOPS_ESHA_DB_PASSWORD = PASSWORD;
    try {
      const again = planAddNode({
        params: writeupParams(cluster),
        dialect: kb,
        snapshot: writeupSnapshot(),
        requester: 'U_REQ',
        now: NOW,
      });
      const json = JSON.stringify(again);
      expect(json).toContain(PASSWORD_TOKEN); // the token stands where the password goes
      for (const leak of [PASSWORD, kb.conninfoPasswordText(PASSWORD), 'distinctive']) {
        expect(json).not.toContain(leak);
        expect(renderPlan(again)).not.toContain(leak);
      }
    } finally {
      if (before === undefined) delete process.env.KBOPS_ESHA_DB_PASSWORD;
      else process.env.KBOPS_ESHA_DB_PASSWORD = before;
    }
  });
});
