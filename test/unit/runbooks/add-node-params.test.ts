import { parseInventory } from '../../../src/config/load-inventory';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { defaultNodeName, type AddNodeParams } from '../../../src/runbooks/add-node/add-node-params';
import { addNodeRunbook } from '../../../src/runbooks/add-node/add-node-runbook';
import { prepareRun, resolveInput } from '../../../src/runbooks/prepare-run';
import { cliUsage } from '../../../src/runbooks/runbook';
import { BIN, DATA, ESHA, writeupCluster } from './writeup-snapshot';

// What a person types reaches the planner only when every value is plain; anything else is refused
// before a connection is made, with the reason.

// A second cluster whose paths hold {name}, as the lab's do.
const TEMPLATED = `
clusters:
  lab:
    dialect: postgresql
    clusterPath: /srv/hosts/{name}/cluster/ESHA
    ssh: { user: kingbase, port: 2222, privateKeyFile: /k/id, knownHostsFile: /k/known_hosts }
    db: { user: SYSTEM, database: TEST, password: { env: PW } }
    nodes:
      - { name: srv11, host: 127.0.0.11, sqlPort: 54321 }
      - { name: srv12, host: 127.0.0.12 }
`;

let clusters: Record<string, ClusterConfig>;

beforeAll(async () => {
  const lab = await parseInventory(TEMPLATED, 'templated', { env: {}, checkFiles: false });
  if (!lab.ok) throw new Error(JSON.stringify(lab.problems));
  clusters = { ESHA: await writeupCluster(), lab: lab.inventory.clusters.lab! };
});

const USAGE = cliUsage(addNodeRunbook);
const parse = (input: Record<string, unknown>, inventory = { clusters, reports: [] }) => {
  const r = resolveInput(addNodeRunbook, input, inventory);
  return r.ok ? { ok: true as const, params: r.params as AddNodeParams } : r;
};
const failure = (input: Record<string, unknown>) => {
  const r = parse(input);
  if (r.ok) throw new Error(`accepted ${JSON.stringify(input).slice(0, 80)}`);
  return r.failure;
};
const params = (input: Record<string, unknown>) => {
  const r = parse(input);
  if (!r.ok) throw new Error(r.failure.message);
  return r.params;
};
const esha = (extra: Record<string, unknown>) => ({ cluster: 'ESHA', host: '192.168.4.159', ...extra });

describe('add-node input: bad input is refused with the reason', () => {
  it.each([
    ['a shell command after the address', '127.0.0.13;touch pwned'],
    ['a command substitution', '$(reboot)'],
    ['backquotes', '`reboot`'],
    ['an option for ssh', '-oProxyCommand=touch pwned'],
    ['a unicode host name', 'srv159.例え.jp'],
    ['full-width digits', '１９２.１６８.４.１５９'],
    ['a homoglyph', 'srv159.exаmple.com'], // Cyrillic а
    ['an octet over 255', '192.168.4.256'],
    ['a space', '192.168.4.159 '],
    ['a newline', '192.168.4.159\nhost'],
    ['an empty host', ''],
  ])('refuses %s', (_, host) => {
    expect(failure({ cluster: 'ESHA', host })).toEqual({
      code: 'bad-input',
      message: 'host: not an IPv4 address or hostname',
      hint: USAGE,
    });
  });

  it('refuses a 10 kB value without echoing it', () => {
    const huge = 'a'.repeat(10 * 1024);
    for (const input of [
      { cluster: 'ESHA', host: huge },
      { cluster: huge, host: '192.168.4.159' },
      esha({ name: huge }),
    ]) {
      const f = failure(input);
      expect(f.code).toBe('bad-input');
      expect(f.message.length).toBeLessThan(200);
      expect(f.message).not.toContain('aaaaaaaaaa');
    }
    expect(failure({ cluster: 'ESHA', host: huge }).message).toBe(
      'host: Too big: expected string to have <=253 characters',
    );
  });

  it('names the unknown cluster and lists the known ones', () => {
    expect(failure({ cluster: 'NOPE', host: '192.168.4.159' })).toEqual({
      code: 'unknown-cluster',
      message: 'no cluster named "NOPE"',
      hint: 'known clusters: ESHA, lab',
    });
    expect(parse({ cluster: 'ESHA', host: '192.168.4.159' }, { clusters: {}, reports: [] })).toMatchObject({
      ok: false,
      failure: { code: 'unknown-cluster', hint: 'known clusters: none' },
    });
  });

  it('refuses a --count-table that is not a plain [schema.]name', () => {
    for (const table of ['t; drop table x', 't10 --', '"t10"', 'a.b.c', '1abc', '', 't-10']) {
      expect(failure(esha({ countTables: [table] }))).toEqual({
        code: 'bad-input',
        message: 'countTables.0: table names: [schema.]name of letters, digits and _',
        hint: USAGE,
      });
    }
    expect(failure(esha({ countTables: Array.from({ length: 11 }, (_, i) => `t${i}`) })).message).toMatch(
      /^countTables: /,
    );
  });

  it.each([
    [{ sshPort: 0 }, 'sshPort: must be between 1 and 65535'],
    [{ sshPort: 65536 }, 'sshPort: must be between 1 and 65535'],
    [{ sqlPort: -1 }, 'sqlPort: must be between 1 and 65535'],
    [{ sqlPort: 5432.5 }, 'sqlPort: must be a whole number'],
    [{ sqlPort: '54321' }, 'sqlPort: must be a port number'],
    [
      { sshPort: 'abc', sqlPort: 70000 },
      'sshPort: must be a port number; sqlPort: must be between 1 and 65535',
    ],
  ])('refuses bad ports %j', (extra, message) => {
    expect(failure(esha(extra))).toEqual({ code: 'bad-input', message, hint: USAGE });
  });

  it('refuses bad names, relative or climbing paths and unknown keys', () => {
    expect(failure(esha({ name: 'SRV159' })).message).toMatch(
      /^name: node names may use only a-z, 0-9 and _/,
    );
    expect(failure(esha({ name: 'srv-159' })).message).toMatch(/^name: /);
    expect(failure(esha({ dataDir: 'data' })).message).toBe('dataDir: must be an absolute path without ".."');
    expect(failure(esha({ clusterPath: '/home/../etc' })).message).toBe(
      'clusterPath: must be an absolute path without ".."',
    );
    expect(failure(esha({ yes: true })).message).toBe('input: Unrecognized key: "yes"');
  });

  it('refuses a host whose derived name would be too long for a slot name', () => {
    const host = `a${'1'.repeat(62)}`; // a valid 63-character label
    expect(failure({ cluster: 'ESHA', host })).toEqual({
      code: 'bad-input',
      message: `name: "srv${'1'.repeat(62)}" (derived from the host) is not a valid node name`,
      hint: 'give one with --name: a-z, 0-9 and _, at most 58 characters',
    });
    expect(params({ cluster: 'ESHA', host, name: 'srv_long' }).name).toBe('srv_long');
  });

  it('runs nothing for bad input: no connector is made', async () => {
    const connectorFor = jest.fn();
    for (const input of [
      { cluster: 'ESHA', host: '127.0.0.13;touch pwned' },
      { cluster: 'NOPE', host: '192.168.4.159' },
    ]) {
      const r = await prepareRun(addNodeRunbook, input, {
        inventory: { clusters, reports: [] },
        requester: 'U_REQ',
        connectorFor,
      });
      expect(r.ok).toBe(false);
    }
    expect(connectorFor).not.toHaveBeenCalled();
  });
});

describe('add-node input: defaults', () => {
  it("fills the write-up's values from the address and the cluster", () => {
    const p = params({ cluster: 'ESHA', host: '192.168.4.159' });
    expect(p).toEqual({
      cluster: clusters.ESHA,
      name: 'srv159',
      host: '192.168.4.159',
      sshPort: 22,
      sqlPort: 54321,
      clusterPath: ESHA,
      dataDir: DATA,
      binDir: BIN,
      countTables: [],
    });
  });

  it('names a node after its host: srv + last number, else the first label', () => {
    expect(defaultNodeName('192.168.4.159')).toBe('srv159');
    expect(defaultNodeName('10.0.0.7')).toBe('srv7');
    expect(defaultNodeName('db-03.example.com')).toBe('db_03');
    expect(defaultNodeName('Kingbase-Node.example.org')).toBe('kingbase_node');
    expect(defaultNodeName('pg2')).toBe('srv2');
    expect(params({ cluster: 'ESHA', host: 'db-03.example.com' }).name).toBe('db_03');
  });

  it('puts the node name where the cluster path holds {name}, and takes ports from the first node', () => {
    expect(params({ cluster: 'lab', host: '127.0.0.13' })).toMatchObject({
      name: 'srv13',
      sshPort: 2222,
      sqlPort: 54321,
      clusterPath: '/srv/hosts/srv13/cluster/ESHA',
      dataDir: '/srv/hosts/srv13/cluster/ESHA/db/data',
      binDir: '/srv/hosts/srv13/cluster/ESHA/db/bin',
    });
    expect(params({ cluster: 'lab', host: '127.0.0.13', name: 'extra_1' }).clusterPath).toBe(
      '/srv/hosts/extra_1/cluster/ESHA',
    );
  });

  it('takes every override as given', () => {
    expect(
      params(
        esha({
          name: 'srv_new',
          sshPort: 2022,
          sqlPort: 54322,
          clusterPath: '/data/kb/ESHA',
          dataDir: '/data/pgdata',
          countTables: ['t10', 'prod.t10'],
        }),
      ),
    ).toMatchObject({
      name: 'srv_new',
      sshPort: 2022,
      sqlPort: 54322,
      clusterPath: '/data/kb/ESHA',
      dataDir: '/data/pgdata',
      binDir: '/data/kb/ESHA/db/bin',
      countTables: ['t10', 'prod.t10'],
    });
  });
});
