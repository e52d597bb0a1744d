import { existsSync } from 'node:fs';
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Inventory } from '../../src/config/normalise-inventory';
import type { Connector } from '../../src/ports/connector';
import { prepareAddNodeRun } from './support/prepare-add-node-run';
import type { Prepared } from '../../src/runbooks/prepare-run';
import { labUp, poolPid } from '../../lab/lab-up';
import {
  editFile,
  fillReplicationSlots,
  knownHostsCopy,
  labUser,
  listenOn,
  pcpNode,
  pinnedKey,
  poolNodes,
  sqlOn,
  startPostgres,
  stopPool,
  stopPostgres,
  waitPoolNode,
  waitStreaming,
} from './support/lab-tools';
import { startPrivateLab, type PrivateLab } from './support/private-lab';

// Preflight against a real lab of its own (base 30): each scenario breaks one thing, checks that
// exactly the right check trips with a message naming the object and a hint, and mends it in
// `finally`, so the next scenario starts from a clean lab. Scenarios run in order, in this file.

let p: PrivateLab;
beforeAll(async () => {
  p = await startPrivateLab(30, 'preflight');
}, 180_000);
afterAll(async () => {
  await p?.stop();
}, 120_000);

const NEW = '127.0.0.33';
const lab = () => p.lab;
const primary = () => p.lab.hosts[0];
const standby = () => p.lab.hosts[1];
const newHost = () => p.lab.hosts[2];
const quiet = () => undefined;

type Ok = Extract<Prepared, { ok: true }>;
type Expected = Readonly<Record<string, readonly string[]>>;

async function prepare(input: Record<string, unknown>, inventory: Inventory = p.inventory): Promise<Ok> {
  const r = await prepareAddNodeRun(
    { cluster: 'lab', host: NEW, ...input },
    { inventory, requester: 'preflight-test' },
  );
  if (!r.ok) throw new Error(`refused before preflight: ${r.failure.code}: ${r.failure.message}`);
  return r;
}

/** Exactly these checks fail (and warn), each with a message holding every fragment and a hint. */
function expectVerdict(r: Ok, fail: Expected, warn: Expected = {}): void {
  for (const [status, expected] of [
    ['fail', fail],
    ['warn', warn],
  ] as const) {
    const got = r.preflight.filter((c) => c.status === status);
    expect({ status, names: got.map((c) => c.name).sort() }).toEqual({
      status,
      names: Object.keys(expected).sort(),
    });
    for (const c of got) {
      for (const fragment of expected[c.name]!) expect(c.message).toContain(fragment);
      expect(c.hint?.trim()).toBeTruthy();
    }
  }
  expect(r.plan === undefined).toBe(Object.keys(fail).length > 0);
}

const BASELINE_CHECKS = (
  'nodes-answer one-primary standbys-streaming pool-srv31 wal-senders replication-slots wal-level ' +
  'max-connections ssh-new-host server-version data-dir sql-port-free free-disk not-a-member names-unused'
).split(' ');

async function expectClean(): Promise<void> {
  const r = await prepare({});
  expect(r.preflight.map((c) => c.name)).toEqual(BASELINE_CHECKS);
  expect(r.preflight.filter((c) => c.status !== 'pass')).toEqual([]);
  expect(r.preflight.find((c) => c.name === 'data-dir')?.message).toBe(`${newHost().dataDir} is absent`);
  expect(r.plan).toMatchObject({ cluster: 'lab', params: expect.objectContaining({ host: NEW }) });
  expect(r.plan?.steps.length).toBeGreaterThan(0);
}

/** The lab's inventory, but with another known_hosts file. */
const withKnownHosts = (knownHostsFile: string): Inventory => ({
  clusters: { lab: { ...p.cluster, ssh: { ...p.cluster.ssh, knownHostsFile } } },
  reports: [],
});

describe('a clean lab', () => {
  it('passes every check and yields a plan', expectClean);
});

describe('bad input runs nothing', () => {
  const pwned = `/tmp/pwned-${process.pid}`;
  it.each([
    ['shell metacharacters', { host: `${NEW};touch ${pwned}` }, 'bad-input', 'host'],
    ['a unicode address', { host: '127.0.0.３３' }, 'bad-input', 'host'],
    ['a unicode host name', { host: 'srv-ü.example' }, 'bad-input', 'host'],
    ['a 10 kB host', { host: `a${'.a'.repeat(5119)}` }, 'bad-input', 'host'],
    ['a 10 kB cluster name', { cluster: 'x'.repeat(10240) }, 'bad-input', 'cluster'],
    ['an unknown cluster', { cluster: 'nope' }, 'unknown-cluster', '"nope"'],
  ])('%s', async (_what, input, code, named) => {
    const connectorFor = jest.fn((): Connector => {
      throw new Error('bad input must not connect anywhere');
    });
    const r = await prepareAddNodeRun(
      { cluster: 'lab', host: NEW, ...input },
      { inventory: p.inventory, requester: 'preflight-test', connectorFor },
    );
    expect(r).toMatchObject({ ok: false, failure: { code } });
    if (r.ok) return;
    expect(r.failure.message).toContain(named);
    expect(r.failure.message.length).toBeLessThan(1000); // never echoes a 10 kB string back
    expect(r.failure.hint?.trim()).toBeTruthy();
    expect(connectorFor).not.toHaveBeenCalled();
    expect(existsSync(pwned)).toBe(false);
  });
});

describe('membership and names', () => {
  it('refuses a host that is already a pgpool backend', async () => {
    const conf = lab().pool.conf;
    const restore = await editFile(conf, (t) => `${t}backend_hostname2 = '${NEW}'\nbackend_port2 = 54321\n`);
    try {
      expectVerdict(await prepare({}), { 'not-a-member': [`${NEW} already in ${conf} as backend 2`] });
    } finally {
      await restore();
    }
  });

  it('refuses a host that is already an inventory node', async () => {
    const s = standby();
    expectVerdict(await prepare({ host: s.address }), {
      'not-a-member': [
        `${s.address} is already inventory node ${s.name}`,
        `already in ${lab().pool.conf} as backend 1`,
        `${s.address} already in KB_ALL_IP on ${primary().name}`,
      ],
      'names-unused': [`node name ${s.name} is taken`, `slot ${s.slot} exists`, `${s.name} already streams`],
      'data-dir': [`${s.dataDir} is not empty`],
      'sql-port-free': [`something already listens on ${s.address}:54321`],
    });
  });

  it('refuses a host already in KB_ALL_IP of a node', async () => {
    const path = join(primary().etcDir, 'HAmodule.conf');
    const restore = await editFile(path, (t) => t.replace(/^KB_ALL_IP=\((.*)\)$/m, `KB_ALL_IP=($1 ${NEW})`));
    try {
      expectVerdict(await prepare({}), {
        'not-a-member': [`${NEW} already in KB_ALL_IP on ${primary().name}`],
      });
    } finally {
      await restore();
    }
  });

  it('refuses a slot name already taken on the primary', async () => {
    const slot = `slot_${newHost().name}`;
    await sqlOn(lab(), primary(), 'select pg_create_physical_replication_slot($1)', [slot]);
    try {
      expectVerdict(
        await prepare({}),
        { 'names-unused': [`slot ${slot} exists`] },
        { 'stray-slots': [slot] },
      );
    } finally {
      await sqlOn(lab(), primary(), 'select pg_drop_replication_slot($1)', [slot]);
    }
  });

  it('refuses a node name already taken (--name srv32)', async () => {
    // The data directory is given, so that only the name is wrong (the lab's paths hold {name}).
    const s = standby();
    expectVerdict(await prepare({ name: s.name, dataDir: newHost().dataDir }), {
      'names-unused': [`node name ${s.name} is taken`, `slot ${s.slot} exists`, `${s.name} already streams`],
    });
  });
});

describe('the new host', () => {
  it('refuses a data directory that is not empty', async () => {
    const dir = newHost().dataDir;
    const user = await labUser(lab());
    expect(existsSync(dir)).toBe(false);
    await mkdir(dir, { mode: 0o700 });
    try {
      await writeFile(join(dir, 'PG_VERSION'), '15\n');
      for (const f of [dir, join(dir, 'PG_VERSION')]) await chown(f, user.uid, user.gid);
      expectVerdict(await prepare({}), { 'data-dir': [`${dir} is not empty (1 entr`] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a data directory it cannot read', async () => {
    const dir = newHost().dataDir;
    await mkdir(dir, { mode: 0o700 }); // root's: kingbase cannot list it
    try {
      expectVerdict(await prepare({}), { 'data-dir': [`${dir} is not readable`] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a data directory path that is a file', async () => {
    const dir = newHost().dataDir;
    await writeFile(dir, 'not a directory\n');
    try {
      expectVerdict(await prepare({}), { 'data-dir': [`${dir} is a file, not a directory`] });
    } finally {
      await rm(dir, { force: true });
    }
  });

  it('refuses a SQL port already taken on the new host', async () => {
    const close = await listenOn(NEW, lab().sqlPort);
    try {
      expectVerdict(await prepare({}), { 'sql-port-free': [`something already listens on ${NEW}:54321`] });
    } finally {
      await close();
    }
  });

  it('refuses a new host whose key is not the pinned one', async () => {
    const forged = join(lab().root, 'known_hosts.forged');
    await knownHostsCopy(lab(), forged, NEW, await pinnedKey(lab(), primary().address));
    try {
      expectVerdict(await prepare({}, withKnownHosts(forged)), {
        'ssh-new-host': [`cannot log in to ${NEW}:22`, `host key for ${NEW}:22 is SHA256:`, 'pinned SHA256:'],
      });
    } finally {
      await rm(forged, { force: true });
    }
  });

  it('refuses a new host with no pinned key (no trust on first use)', async () => {
    const unpinned = join(lab().root, 'known_hosts.unpinned');
    await knownHostsCopy(lab(), unpinned, NEW, null);
    try {
      expectVerdict(await prepare({}, withKnownHosts(unpinned)), {
        'ssh-new-host': [`no host key is pinned for ${NEW}:22`],
      });
    } finally {
      await rm(unpinned, { force: true });
    }
  });

  it('refuses a new host where nothing answers SSH', async () => {
    expectVerdict(await prepare({ host: '127.0.0.39' }), {
      'ssh-new-host': ['cannot log in to 127.0.0.39:22'],
    });
  });
});

describe('the cluster', () => {
  it('refuses when no replication slot is free', async () => {
    const { max, dummies, drop } = await fillReplicationSlots(lab());
    expect(dummies.length).toBeGreaterThan(0);
    try {
      expectVerdict(
        await prepare({}),
        { 'replication-slots': [`all ${max} replication slots are in use`, ...dummies] },
        { 'stray-slots': dummies },
      );
    } finally {
      await drop();
    }
  });

  it('refuses when a standby is up but not streaming', async () => {
    const s = standby();
    const auto = join(s.dataDir, 'postgresql.auto.conf');
    const restore = await editFile(auto, (t) =>
      t.replace(/^primary_conninfo = .*$/m, "primary_conninfo = ''"),
    );
    try {
      await sqlOn(lab(), s, 'select pg_reload_conf()');
      await waitStreaming(lab(), s, false);
      expectVerdict(await prepare({}), {
        'standbys-streaming': [`${s.name} not streaming from the primary`],
      });
    } finally {
      await restore();
      await sqlOn(lab(), s, 'select pg_reload_conf()');
      await waitStreaming(lab(), s);
    }
  });

  it('refuses when a standby is down', async () => {
    const s = standby();
    await stopPostgres(lab(), s);
    try {
      await waitPoolNode(lab(), 1, ['down']); // pgpool's health check detaches it within a second or two
      expectVerdict(await prepare({}), {
        'nodes-answer': [`${s.name} (${s.address}) does not answer`],
        'standbys-streaming': [`${s.name} not streaming from the primary`],
        'pool-srv31': [`node 1 (${s.address}) is down`],
      });
    } finally {
      await startPostgres(lab(), s);
      await waitStreaming(lab(), s);
      await pcpNode(lab(), 'attach', 1);
      await waitPoolNode(lab(), 1, ['up']);
    }
  });

  it('refuses when a pool node is detached', async () => {
    await pcpNode(lab(), 'detach', 1);
    try {
      await waitPoolNode(lab(), 1, ['down']);
      expectVerdict(await prepare({}), { 'pool-srv31': [`node 1 (${standby().address}) is down`] });
    } finally {
      await pcpNode(lab(), 'attach', 1);
      await waitPoolNode(lab(), 1, ['up']);
    }
  });

  it('refuses when the cluster manager does not answer', async () => {
    const stopped = await stopPool(lab());
    try {
      expect(await poolNodes(lab())).toBeUndefined();
      expectVerdict(await prepare({}), {
        'pool-srv31': [`pool on ${lab().poolAddress}:${lab().pool.sqlPort} did not answer`],
      });
    } finally {
      await labUp(lab(), quiet); // starts pgpool again exactly as the lab does, and waits for both backends
    }
    expect(await poolPid(lab())).not.toBe(stopped);
  });
});

describe('afterwards', () => {
  it('the lab is clean again after every scenario', expectClean);
});
