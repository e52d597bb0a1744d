import { existsSync } from 'node:fs';
import { ClusterConnector } from '../../src/adapters/cluster-connector';
import { runbookCommand } from '../../commands/runbook/runbook-command';
import type { CommandIo } from '../../src/cli/cli-io';
import { planCommand } from '../../src/cli/plan-command';
import { addNodeRunbook } from '../../src/runbooks/add-node/add-node-runbook';
import { rollbackCommand } from '../../src/cli/run-commands';
import { parseInventory } from '../../src/config/load-inventory';
import {
  CHANNEL,
  chatopsHarness,
  closeSharedStore,
  labCluster,
  type Harness,
} from './chatops/chatops-harness';
import { writeupCluster } from './runbooks/writeup-snapshot';

// Issue 8: hostile and malformed input at every door (/kingbase arguments, the add-node form, CLI
// flags, the inventory). Each case must be refused with an error naming the field; none may reach a
// shell, an SSH or SQL connection, or the file system; nothing typed is echoed unescaped.

const PWNED = '/tmp/kbops-pwned-by-hostile-input';
const K10 = 'a'.repeat(10_000);
const connectorCalls = ['sql', 'shell', 'files', 'secret'].map((m) =>
  jest.spyOn(ClusterConnector.prototype, m as 'sql'),
);

/** Raw control characters and bidi / invisible marks that must never be sent anywhere. */
// eslint-disable-next-line no-control-regex -- control characters are what is looked for
const UNSHOWABLE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

beforeEach(() => connectorCalls.forEach((s) => s.mockClear()));
afterEach(() => {
  for (const s of connectorCalls) expect(s).not.toHaveBeenCalled();
  expect(existsSync(PWNED)).toBe(false);
});

describe('/kingbase arguments', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await chatopsHarness([await labCluster()]);
  });
  afterAll(closeSharedStore);

  // [case, text after /kingbase, the reply must start with]
  const cases: Array<[string, string, RegExp]> = [
    ['host: command after ;', `add-node lab 127.0.0.13;touch${'${IFS}'}${PWNED}`, /^:warning: host: /],
    ['host: ; then a second word', `add-node lab ;touch ${PWNED}`, /^:warning: host: one host only/],
    ['host: $(…)', `add-node lab $(touch${'${IFS}'}${PWNED})`, /^:warning: host: /],
    ['host: backticks', 'add-node lab `touch${IFS}/tmp/x`', /^:warning: host: /],
    ['host: ssh option injection', 'add-node lab -oProxyCommand=touch', /^:warning: host: /],
    ['host: --help', 'add-node lab --help', /^:warning: host: /],
    ['host: leading dash', 'add-node lab -srv13', /^:warning: host: /],
    ['host: NUL', 'add-node lab 127.0.0.13\u0000', /^:warning: host: /],
    ['host: escape sequence', 'add-node lab \u001b[2J127.0.0.13', /^:warning: host: /],
    ['host: full-width digit look-alike', 'add-node lab 127.0.0.1\uff13', /^:warning: host: /],
    ['host: RTL override', 'add-node lab 127.0.0.\u202e31', /^:warning: host: /],
    ['host: zero-width space', 'add-node lab srv\u200b13.example', /^:warning: host: /],
    ['host: 10 kB', `add-node lab ${K10}`, /^:warning: host: /],
    ['host: <!channel>', 'add-node lab <!channel>', /^:warning: host: /],
    ['host: <@U123> mention', 'add-node lab <@U123>', /^:warning: host: /],
    ['host: Slack link', 'add-node lab <https://evil.example|127.0.0.13>', /^:warning: host: /],
    ['host: entity', 'add-node lab &lt;b&gt;', /^:warning: host: /],
    ['host: quotes', `add-node lab '127.0.0.13'`, /^:warning: host: /],
    ['host: missing', 'add-node lab', /^:warning: host: missing/],
    ['name: --help', 'add-node lab 127.0.0.13 name=--help', /^:warning: name: /],
    ['name: option injection', 'add-node lab 127.0.0.13 name=-oProxyCommand=x', /^:warning: name: /],
    ['name: ; command', 'add-node lab 127.0.0.13 name=srv13;reboot', /^:warning: name: /],
    ['name: empty', 'add-node lab 127.0.0.13 name=', /^:warning: name: /],
    ['name: <!here>', 'add-node lab 127.0.0.13 name=<!here>', /^:warning: name: /],
    ['name: 10 kB', `add-node lab 127.0.0.13 name=${K10}`, /^:warning: name: /],
    ['name: twice', 'add-node lab 127.0.0.13 name=a name=b', /^:warning: name: given more than once/],
    [
      'option: unknown key',
      'add-node lab 127.0.0.13 ssh-port=22;reboot',
      /^:warning: `ssh-port=`: unknown option/,
    ],
    ['option: host= smuggled', 'add-node lab host=127.0.0.13', /^:warning: `host=`: unknown option/],
    ['cluster: <!channel>', 'add-node <!channel> 127.0.0.13', /^:warning: cluster: /],
    ['cluster: Cyrillic look-alike', 'add-node l\u0430b 127.0.0.13', /^:warning: cluster: /],
    ['cluster: leading dash', 'add-node -lab 127.0.0.13', /^:warning: cluster: /],
    ['cluster: quotes', `add-node "lab" 127.0.0.13`, /^:warning: cluster: /],
    ['cluster: 10 kB', `add-node ${K10} 127.0.0.13`, /^:warning: cluster: /],
    ['cluster: whitespace only', 'add-node    ', /^:warning: cluster: missing/],
    ['run: path traversal (show)', 'show ../../etc/passwd', /^:warning: run: /],
    ['run: ; command (show)', 'show R12345678;rm', /^:warning: run: /],
    ['run: 10 kB (show)', `show ${K10}`, /^:warning: run: /],
    ['run: <!channel> (cancel)', 'cancel <!channel>', /^:warning: run: /],
    ['run: $(…) (rollback)', 'rollback $(reboot)', /^:warning: run: /],
    ['run: missing (cancel)', 'cancel', /^:warning: run: missing/],
    ['cluster: <@U123> (runs)', 'runs <@U123>', /^:warning: cluster: /],
    ['cluster: ; command (runs)', 'runs lab;touch', /^:warning: cluster: /],
    ['cluster: $(…) (status)', 'status $(touch)', /^:warning: cluster: /],
    ['cluster: --help (status)', 'status --help', /^:warning: cluster: /],
    ['cluster: mention (unlock)', 'unlock <@U123> because', /^:warning: cluster: /],
    ['cluster: -f (unlock)', 'unlock -f', /^:warning: cluster: /],
    ['sub-command: <!channel>', '<!channel>', /^Unknown sub-command `&lt;!channel&gt;`/],
    ['sub-command: RTL mark', 'add\u202e-node', /^Unknown sub-command `add\ufffd-node`/],
  ];

  it.each(cases)('%s', async (_name, text, reply) => {
    const before = h.surface.said.length;
    await h.send(text, 'UALICE');
    const said = h.surface.said.slice(before);
    // One reply, to the typist only: nothing in the channel.
    expect(said.map((s) => [s.kind, s.user, s.channel])).toEqual([['ephemeral', 'UALICE', CHANNEL]]);
    const shown = said[0]!;
    expect(shown.text).toMatch(reply);
    // Nothing typed comes back as Slack syntax or raw control characters: in text and blocks alike.
    const wire = JSON.parse(JSON.stringify([shown.text, shown.blocks])) as unknown;
    const all = JSON.stringify(wire);
    expect(all).not.toMatch(/<[!@#]|<https?:/);
    expect(all.includes('<')).toBe(false);
    expect(UNSHOWABLE.test(shown.text)).toBe(false);
    expect(shown.text.length).toBeLessThan(1000);
    expect(await h.store.listRuns()).toEqual([]);
  });

  it('covers at least 45 cases here', () => expect(cases.length).toBeGreaterThanOrEqual(45));
});

describe('the add-node form (a modal submission)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await chatopsHarness([await labCluster()]);
  });
  afterAll(closeSharedStore);
  const values = (cluster: string | null, host: string, name = '') => ({
    cluster: { cluster: { selected_option: cluster === null ? null : { value: cluster } } },
    host: { host: { value: host } },
    name: { name: { value: name } },
  });

  const cases: Array<[string, ReturnType<typeof values>, RegExp]> = [
    ['host with a space and a smuggled option', values('lab', '127.0.0.13 name=evil'), /^:warning: host: /],
    ['host that is only an option', values('lab', 'name=srv99'), /^:warning: host: missing/],
    ['forged cluster value', values('lab;touch', '127.0.0.13'), /^:warning: cluster: /],
    ['no cluster selected', values(null, '127.0.0.13'), /^:warning: cluster: missing/],
    ['name with a space', values('lab', '127.0.0.13', 'srv 13'), /^:warning: name: /],
    ['name with a newline', values('lab', '127.0.0.13', 'srv13\nname=x'), /^:warning: name: /],
    ['host of 10 kB (max_length is the browser’s)', values('lab', K10), /^:warning: host: /],
    ['host <!channel>', values('lab', '<!channel>'), /^:warning: host: /],
  ];

  it.each(cases)('%s', async (_name, v, reply) => {
    const before = h.surface.said.length;
    const slackAddNode = runbookCommand(addNodeRunbook);
    await slackAddNode.run(h.ctx('UALICE'), slackAddNode.form!.args(v));
    const said = h.surface.said.slice(before);
    expect(said.map((s) => s.kind)).toEqual(['ephemeral']);
    expect(said[0]!.text).toMatch(reply);
    expect(JSON.stringify(said).includes('<')).toBe(false);
  });
});

describe('kbops CLI flags', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    const sink: CommandIo = { out: (t) => out.push(t), err: (t) => err.push(t), tty: false };
    return { sink, text: () => [...out, ...err].join('\n') };
  };
  const base = ['--cluster', 'ESHA', '--host', '192.168.4.159'];

  // [case, argv, the first error line must start with]
  const cases: Array<[string, string[], string]> = [
    ['--host with ;', ['--cluster', 'ESHA', '--host', `127.0.0.13;touch ${PWNED}`], 'kbops: host: '],
    ['--host --help (taken as the value)', ['--cluster', 'ESHA', '--host', '--help'], 'kbops: host: '],
    ['--host ssh option', ['--cluster', 'ESHA', '--host', '-oProxyCommand=touch'], 'kbops: host: '],
    ['--host 10 kB', ['--cluster', 'ESHA', '--host', K10], 'kbops: host: '],
    ['--name option injection', [...base, '--name', '-oProxyCommand=x'], 'kbops: name: '],
    ['--data-dir with a quote', [...base, '--data-dir', "/data/it's"], 'kbops: dataDir: '],
    ['--data-dir with a newline', [...base, '--data-dir', '/data\n/x'], 'kbops: dataDir: '],
    ['--data-dir with a space', [...base, '--data-dir', '/data dir'], 'kbops: dataDir: '],
    ['--cluster-path with $(…)', [...base, '--cluster-path', `/a/$(touch ${PWNED})`], 'kbops: clusterPath: '],
    ['--cluster-path climbing', [...base, '--cluster-path', '/a/../etc'], 'kbops: clusterPath: '],
    ['--count-table with SQL', [...base, '--count-table', 't; DROP TABLE x'], 'kbops: countTables.0: '],
    ['--ssh-port with ;', [...base, '--ssh-port', '22;reboot'], 'kbops: sshPort: '],
    ['--cluster <!channel>', ['--cluster', '<!channel>', '--host', '127.0.0.13'], 'kbops: no cluster named'],
  ];

  it.each(cases)('%s', async (_name, argv, says) => {
    const ESHA = await writeupCluster();
    const { sink, text } = io();
    const code = await planCommand(addNodeRunbook, [...argv, '--yes'], 'run', {
      inventory: { clusters: { ESHA }, reports: [] },
      env: {},
      io: sink,
      store: {},
      runbooks: [addNodeRunbook],
    });
    expect(code).toBe(64);
    expect(text().startsWith(says)).toBe(true);
    expect(UNSHOWABLE.test(text())).toBe(false);
  });

  it.each([
    ['run id with path traversal', '../../etc/passwd'],
    ['run id with $(…)', '$(reboot)'],
    ['run id of 10 kB', K10],
  ])('rollback: %s is refused before the store is opened', async (_name, id) => {
    const { sink, text } = io();
    const code = await rollbackCommand([id, '--yes'], {
      inventory: { clusters: {}, reports: [] },
      env: {},
      io: sink,
      store: { KBOPS_STATE_DIR: PWNED }, // opening the store would create it
      runbooks: [],
    });
    expect(code).toBe(64);
    expect(text()).toMatch(/^kbops: run: ".{1,60}" is not a run id/);
  });
});

describe('the inventory', () => {
  const good = () => ({
    clusters: {
      lab: {
        dialect: 'postgresql',
        clusterPath: '/srv/pg',
        ssh: { user: 'postgres', privateKeyFile: '/etc/kbops/key', knownHostsFile: '/etc/kbops/known_hosts' },
        db: { user: 'postgres', database: 'app', password: { env: 'PGPW' } },
        nodes: [{ name: 'pg1', host: '127.0.0.11' }],
        manager: { kind: 'pgpool', nodes: [{ node: 'pg1', configFile: '/etc/pgpool2/pgpool.conf' }] },
        access: { requesters: { users: ['UALICE'] } },
      },
    },
  });
  type Doc = ReturnType<typeof good> & { clusters: Record<string, unknown> };
  const lab = (d: Doc) => d.clusters.lab;

  // [case, change to a good inventory, the problem's path]
  const cases: Array<[string, (d: Doc) => void, string]> = [
    [
      'node host with ;',
      (d) => (lab(d).nodes[0]!.host = `127.0.0.11;touch ${PWNED}`),
      'clusters.lab.nodes[0].host',
    ],
    ['node name --help', (d) => (lab(d).nodes[0]!.name = '--help'), 'clusters.lab.nodes[0].name'],
    [
      'node host look-alike',
      (d) => (lab(d).nodes[0]!.host = '127.0.0.1\uff11'),
      'clusters.lab.nodes[0].host',
    ],
    ['clusterPath with a quote', (d) => (lab(d).clusterPath = "/srv/k'pg"), 'clusters.lab.clusterPath'],
    ['clusterPath of 10 kB', (d) => (lab(d).clusterPath = `/${K10}`), 'clusters.lab.clusterPath'],
    [
      'dataDir with a newline',
      (d) => Object.assign(lab(d).nodes[0]!, { dataDir: '/data\nrestore_command=x' }),
      'clusters.lab.nodes[0].dataDir',
    ],
    [
      'binDir with an RTL mark',
      (d) => Object.assign(lab(d).nodes[0]!, { binDir: '/usr/\u202ebin' }),
      'clusters.lab.nodes[0].binDir',
    ],
    [
      'privateKeyFile with $(…)',
      (d) => (lab(d).ssh.privateKeyFile = '/k$(reboot)'),
      'clusters.lab.ssh.privateKeyFile',
    ],
    [
      'knownHostsFile with a space',
      (d) => (lab(d).ssh.knownHostsFile = '/etc/kn own'),
      'clusters.lab.ssh.knownHostsFile',
    ],
    ['ssh.user option injection', (d) => (lab(d).ssh.user = '-oProxyCommand=x'), 'clusters.lab.ssh.user'],
    [
      'db.user smuggling conninfo',
      (d) => (lab(d).db.user = 'postgres password=x host=evil'),
      'clusters.lab.db.user',
    ],
    [
      'db.database with a quote',
      (d) => (lab(d).db.database = "app'; DROP TABLE t; --"),
      'clusters.lab.db.database',
    ],
    [
      'pcpUser option injection',
      (d) => Object.assign(lab(d).manager, { pcpUser: '-h evil' }),
      'clusters.lab.manager.pcpUser',
    ],
    ['cluster named <!channel>', (d) => (d.clusters['<!channel>'] = lab(d)), 'clusters.<!channel>'],
    [
      'requester <@U123>',
      (d) => (lab(d).access.requesters.users = ['<@U123>']),
      'clusters.lab.access.requesters.users[0]',
    ],
    [
      'configFile with NUL',
      (d) => (lab(d).manager.nodes[0]!.configFile = '/etc/pgpool\u0000.conf'),
      'clusters.lab.manager.nodes[0].configFile',
    ],
  ];

  it.each(cases)('%s', async (_name, change, path) => {
    const doc = good() as Doc;
    change(doc);
    const r = await parseInventory(JSON.stringify(doc), 'inventory.json', { env: {}, checkFiles: false });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.path)).toContain(path);
    for (const p of r.problems) expect(UNSHOWABLE.test(p.message)).toBe(false);
  });

  it('accepts the good inventory the cases start from', async () => {
    const r = await parseInventory(JSON.stringify(good()), 'inventory.json', { env: {}, checkFiles: false });
    expect(r).toMatchObject({ ok: true });
  });
});
