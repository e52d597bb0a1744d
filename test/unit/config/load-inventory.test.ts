import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { formatProblems, loadInventory, parseInventory } from '../../../src/config/load-inventory';

const EXAMPLE = join(__dirname, '../../../src/config/example-inventory.yaml');

type Doc = { clusters: Record<string, Record<string, any>> }; // eslint-disable-line @typescript-eslint/no-explicit-any

let dir: string;
let keyFile: string;
let knownHosts: string;
const env = { KBOPS_ESHA_DB_PASSWORD: 'not-the-real-one' };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbops-config-'));
  keyFile = join(dir, 'id_ed25519');
  knownHosts = join(dir, 'known_hosts');
  writeFileSync(keyFile, 'key material is not parsed by the loader\n', { mode: 0o600 });
  writeFileSync(knownHosts, '192.168.4.127 ssh-ed25519 AAAA\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The example with its key paths pointed at real temporary files. */
function example(): Doc {
  const doc = parse(readFileSync(EXAMPLE, 'utf8')) as Doc;
  doc.clusters.ESHA!.ssh.privateKeyFile = keyFile;
  doc.clusters.ESHA!.ssh.knownHostsFile = knownHosts;
  return doc;
}

describe('the example inventory', () => {
  it('loads and is normalised to the write-up cluster', async () => {
    const r = await loadInventory(EXAMPLE, { env, checkFiles: false });
    if (!r.ok) throw new Error(formatProblems(r.problems));
    const c = r.inventory.clusters.ESHA!;
    expect(c.dialect).toBe('kingbase-v8r3');
    expect(c.nodes.map((n) => [n.name, n.host, n.sqlPort, n.sshPort])).toEqual([
      ['srv127', '192.168.4.127', 54321, 22],
      ['srv129', '192.168.4.129', 54321, 22],
    ]);
    expect(c.nodes[0]!.dataDir).toBe('/home/kingbase/cluster/ESHA/db/data');
    expect(c.nodes[1]!.binDir).toBe('/home/kingbase/cluster/ESHA/db/bin');
    expect(c.db).toEqual({
      user: 'SYSTEM',
      database: 'TEST',
      password: { env: 'KBOPS_ESHA_DB_PASSWORD' },
      tls: { mode: 'prefer' },
    });
    expect(c.manager?.kind).toBe('kingbasecluster');
    expect(c.manager?.nodes.map((m) => [m.node, m.host, m.sqlPort, m.pcpPort])).toEqual([
      ['srv127', '192.168.4.127', 9999, 9898],
      ['srv129', '192.168.4.129', 9999, 9898],
    ]);
    expect(c.manager?.pcpUser).toBe('SYSTEM');
    expect(c.allowUnattendedCli).toBe(false);
  });

  it('loads with its files checked and returns the resolved secrets for redaction', async () => {
    const r = await parseInventory(stringify(example()), 'example', { env });
    if (!r.ok) throw new Error(formatProblems(r.problems));
    expect(r.secrets).toEqual(['not-the-real-one']);
  });

  it('applies per-node overrides', async () => {
    const doc = example();
    doc.clusters.ESHA!.nodes[1] = {
      name: 'srv129',
      host: 'srv129.db.example',
      sshPort: 2222,
      clusterPath: '/data/ESHA',
    };
    const r = await parseInventory(stringify(doc), 'x', { env });
    if (!r.ok) throw new Error(formatProblems(r.problems));
    const n = r.inventory.clusters.ESHA!.nodes[1]!;
    expect([n.host, n.sshPort, n.dataDir, n.binDir]).toEqual([
      'srv129.db.example',
      2222,
      '/data/ESHA/db/data',
      '/data/ESHA/db/bin',
    ]);
  });
});

type Case = [name: string, mutate: (c: Record<string, any>, doc: Doc) => void, path: string, message: string]; // eslint-disable-line @typescript-eslint/no-explicit-any

const cases: Case[] = [
  [
    'duplicate node names',
    (c) => (c.nodes[1].name = 'srv127'),
    'clusters.ESHA.nodes[1].name',
    'duplicate node name "srv127" (already used by nodes[0])',
  ],
  [
    'bad IP address',
    (c) => (c.nodes[0].host = '192.168.4.300'),
    'clusters.ESHA.nodes[0].host',
    'not an IPv4 address or hostname',
  ],
  [
    'shell metacharacters in a host',
    (c) => (c.nodes[1].host = '127.0.0.13;touch pwned'),
    'clusters.ESHA.nodes[1].host',
    'not an IPv4 address or hostname',
  ],
  [
    'literal password',
    (c) => (c.db.password = '123456'),
    'clusters.ESHA.db.password',
    'literal secrets are not allowed in the inventory',
  ],
  [
    'numeric literal password',
    (c) => (c.db.password = 123456),
    'clusters.ESHA.db.password',
    'literal secrets are not allowed in the inventory',
  ],
  [
    'secret reference of the wrong shape',
    (c) => (c.db.password = { vault: 'x' }),
    'clusters.ESHA.db.password',
    'expected a secret reference',
  ],
  [
    'unknown dialect',
    (c) => (c.dialect = 'oracle'),
    'clusters.ESHA.dialect',
    'unknown dialect: use kingbase-v8r3 or postgresql',
  ],
  [
    'manager node not in the node list',
    (c) => (c.manager.nodes[1].node = 'srv200'),
    'clusters.ESHA.manager.nodes[1].node',
    'no node named "srv200" in clusters.ESHA.nodes (known: srv127, srv129)',
  ],
  [
    'manager node listed twice',
    (c) => (c.manager.nodes[1].node = 'srv127'),
    'clusters.ESHA.manager.nodes[1].node',
    'listed twice',
  ],
  [
    'three kingbasecluster nodes',
    (c) => {
      c.nodes.push({ name: 'srv159', host: '192.168.4.159' });
      c.manager.nodes.push({ node: 'srv159', configFile: '/x/k.conf' });
    },
    'clusters.ESHA.manager.nodes',
    'at most two kingbasecluster nodes, found 3',
  ],
  [
    'kingbasecluster on PostgreSQL',
    (c) => (c.dialect = 'postgresql'),
    'clusters.ESHA.manager.kind',
    'kingbasecluster manages KingbaseES V8R3 only',
  ],
  [
    'port out of range',
    (c) => (c.nodes[0].sqlPort = 70000),
    'clusters.ESHA.nodes[0].sqlPort',
    'must be between 1 and 65535',
  ],
  ['port as text', (c) => (c.ssh.port = '22'), 'clusters.ESHA.ssh.port', 'must be a port number'],
  [
    'relative cluster path',
    (c) => (c.clusterPath = 'home/kingbase/cluster/ESHA'),
    'clusters.ESHA.clusterPath',
    'must be an absolute path',
  ],
  [
    'path escaping with ..',
    (c) => (c.nodes[0].dataDir = '/home/kingbase/../../etc'),
    'clusters.ESHA.nodes[0].dataDir',
    'must be an absolute path without ".."',
  ],
  [
    'node name unusable as a slot name',
    (c) => (c.nodes[0].name = 'SRV-127'),
    'clusters.ESHA.nodes[0].name',
    'node names may use only a-z, 0-9 and _',
  ],
  [
    'misspelt key',
    (c) => (c.nodes[0].sqlport = 54321),
    'clusters.ESHA.nodes[0]',
    'Unrecognized key: "sqlport"',
  ],
  [
    'no pinned host keys',
    (c) => delete c.ssh.knownHostsFile,
    'clusters.ESHA.nodes[0].hostKeys',
    'no pinned SSH host key for node "srv127"',
  ],
  [
    'malformed fingerprint',
    (c) => (c.nodes[0].hostKeys = ['MD5:aa:bb']),
    'clusters.ESHA.nodes[0].hostKeys[0]',
    'not an OpenSSH SHA256 fingerprint',
  ],
  [
    'two nodes on one endpoint',
    (c) => (c.nodes[1].host = '192.168.4.127'),
    'clusters.ESHA.nodes[1].host',
    '192.168.4.127:54321 is already node "srv127"',
  ],
  ['no nodes', (c) => (c.nodes = []), 'clusters.ESHA.nodes', 'list at least one node'],
  ['missing db section', (c) => delete c.db, 'clusters.ESHA.db', 'expected object'],
  [
    'bad cluster name',
    (_c, doc) => {
      doc.clusters['9lives'] = doc.clusters.ESHA!;
      delete doc.clusters.ESHA;
    },
    'clusters.9lives',
    'cluster names: a letter',
  ],
  [
    'missing key file',
    (c) => (c.ssh.privateKeyFile = '/nonexistent/kbops/id_ed25519'),
    'clusters.ESHA.ssh.privateKeyFile',
    'SSH private key /nonexistent/kbops/id_ed25519 does not exist',
  ],
  [
    'missing known_hosts file',
    (c) => (c.ssh.knownHostsFile = '/nonexistent/known_hosts'),
    'clusters.ESHA.ssh.knownHostsFile',
    'known_hosts file /nonexistent/known_hosts does not exist',
  ],
  [
    'password variable not set',
    (c) => (c.db.password = { env: 'KBOPS_UNSET_FOR_TEST' }),
    'clusters.ESHA.db.password',
    'environment variable KBOPS_UNSET_FOR_TEST is not set',
  ],
  [
    'secret file missing',
    (c) => (c.db.password = { file: '/nonexistent/pw' }),
    'clusters.ESHA.db.password',
    'cannot read secret file /nonexistent/pw (ENOENT)',
  ],
];

describe('invalid inventories', () => {
  it.each(cases)('%s', async (_name, mutate, path, message) => {
    const doc = example();
    mutate(doc.clusters.ESHA ?? Object.values(doc.clusters)[0]!, doc);
    const r = await parseInventory(stringify(doc), 'test', { env });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('reports a key file readable by others', async () => {
    const loose = join(dir, 'loose_key');
    writeFileSync(loose, 'k');
    chmodSync(loose, 0o644);
    const doc = example();
    doc.clusters.ESHA!.ssh.privateKeyFile = loose;
    const r = await parseInventory(stringify(doc), 'test', { env });
    expect(r.ok ? [] : r.problems).toEqual([
      {
        path: 'clusters.ESHA.ssh.privateKeyFile',
        message: `SSH private key ${loose} is readable by others (mode 644): chmod 600 it`,
      },
    ]);
  });

  it('reports every problem at once, schema and cross-field alike, with paths', async () => {
    const doc = example();
    const c = doc.clusters.ESHA!;
    c.nodes[0].host = 'bad host';
    c.nodes[1].name = 'srv127';
    c.db.password = 'hunter22';
    c.manager.nodes[0].node = 'nosuch';
    const r = await parseInventory(stringify(doc), 'test', { env });
    expect(r.ok ? [] : r.problems.map((p) => p.path)).toEqual([
      'clusters.ESHA.db.password',
      'clusters.ESHA.manager.nodes[0].node',
      'clusters.ESHA.manager.nodes[1].node', // srv129 no longer exists once renamed
      'clusters.ESHA.nodes[0].host',
      'clusters.ESHA.nodes[1].name',
    ]);
    // The literal secret must not be echoed back in any message.
    expect(JSON.stringify(r)).not.toContain('hunter22');
  });

  it('reports YAML syntax errors and duplicate keys with a line number', async () => {
    const r = await parseInventory(
      'clusters:\n  A:\n    dialect: postgresql\n    dialect: postgresql\n',
      'inv.yaml',
      { env },
    );
    expect(r.ok ? '' : formatProblems(r.problems)).toMatch(/^inv\.yaml: YAML DUPLICATE_KEY at line 4/);
  });

  it('reports an unreadable inventory path', async () => {
    const r = await loadInventory('/nonexistent/kbops.yaml', { env });
    expect(r.ok ? '' : formatProblems(r.problems)).toBe(
      'cannot read inventory /nonexistent/kbops.yaml (ENOENT)',
    );
  });
});
