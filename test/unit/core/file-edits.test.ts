import { applyEdit } from '../../../src/core/file-edits';
import type { FileEdit } from '../../../src/core/plan';

// The kingbase.conf excerpt from the write-up (§1.3.3), as it is on srv159.
const KINGBASE_CONF = `# Add settings for extensions here
max_wal_senders=4
wal_keep_segments=256
hot_standby_feedback=on
max_prepared_transactions=100
port=54321
control_file_copy='/home/kingbase/cluster/ESHA/template.bk'
fsync=on
wal_log_hints=on
archive_mode=on
hot_standby=on
wal_level=replica
###synchronous_standby_names='1(srv129)'
archive_dest='/home/kingbase/cluster/ESHA/archivedir/'
max_replication_slots=4
log_directory='/home/kingbase/cluster/ESHA/db/data/sys_log/'
`;

const PGPOOL_CONF = `# - Backend Connection Settings -

backend_hostname0 = '192.168.4.129'
                                   # Host name or IP address to connect to for backend 0
backend_port0 = 54321
                                   # Port number for backend 0
backend_weight0 = 1
backend_data_directory0 = '/home/kingbase/cluster/ESHA/db/data'
#backend_hostname1 = 'host2'
#backend_port1 = 5433
backend_hostname1 = '192.168.4.127'
backend_port1 = 54321		# change requires restart
backend_weight1 = 1
backend_data_directory1 = '/home/kingbase/cluster/ESHA/db/data'
load_balance_mode = on  # Activate load balancing mode ('#' is fine in a comment)
`;

const SYS_HBA = `# "local" is for Unix domain socket connections only
local   all             all                                     md5
# IPv4 local connections:
host    all             all             127.0.0.1/32            md5
host    all             all             0.0.0.0/0               md5
host all SYSTEM 192.168.4.127/16 md5
host all SYSTEM 192.168.4.129/16 md5

host replication SYSTEM 192.168.4.127/16 md5
host replication SYSTEM 192.168.4.129/16 md5
`;

const HAMODULE = `######## cluster configuration ########
KB_DATA_PATH="/home/kingbase/cluster/ESHA/db/data"
KB_LOCALHOST_IP="192.168.4.127"
KB_ALL_IP=(192.168.4.127 192.168.4.129 )
#KB_ALL_IP=(10.0.0.1 10.0.0.2 )
KB_POOL_IP1="192.168.4.127"
KB_VIP=192.168.4.200  # virtual address
`;

function apply(content: string, edit: FileEdit): { content: string; changed: boolean } {
  const r = applyEdit(content, edit);
  if (!r.ok) throw new Error(`${r.failure.code}: ${r.failure.message}`);
  // Idempotent: applying the result again changes nothing.
  const again = applyEdit(r.content, edit);
  expect(again).toEqual({ ok: true, content: r.content, changed: false });
  return { content: r.content, changed: r.changed };
}

function failure(content: string, edit: FileEdit): { code: string; message: string; hint?: string } {
  const r = applyEdit(content, edit);
  if (r.ok) throw new Error('expected a failure');
  return r.failure;
}

describe('set-keys', () => {
  it('replaces active lines in place, keeping the write-up style, and appends missing keys', () => {
    const r = apply(KINGBASE_CONF, {
      type: 'set-keys',
      entries: {
        max_wal_senders: '8',
        hot_standby: 'on',
        synchronous_standby_names: "''",
        wal_log_hints: 'on',
      },
    });
    expect(r.changed).toBe(true);
    expect(r.content).toBe(
      KINGBASE_CONF.replace('max_wal_senders=4', 'max_wal_senders=8') + "synchronous_standby_names=''\n",
    );
    // The commented-out ###synchronous_standby_names line is left alone.
    expect(r.content).toContain("###synchronous_standby_names='1(srv129)'\n");
  });

  it('reports no change when every key already has its value', () => {
    expect(apply(KINGBASE_CONF, { type: 'set-keys', entries: { port: '54321', fsync: 'on' } })).toEqual({
      content: KINGBASE_CONF,
      changed: false,
    });
  });

  it('keeps spacing and trailing comments, ignores commented lines, matches keys case-insensitively', () => {
    const r = apply(PGPOOL_CONF, {
      type: 'set-keys',
      entries: {
        BACKEND_PORT1: '54322',
        load_balance_mode: 'off',
        backend_hostname2: "'192.168.4.159'",
        backend_port2: '54321',
      },
    });
    expect(r.content).toContain('backend_port1 = 54322\t\t# change requires restart\n');
    expect(r.content).toContain(
      "load_balance_mode = off  # Activate load balancing mode ('#' is fine in a comment)\n",
    );
    expect(r.content).toContain("#backend_hostname1 = 'host2'\n#backend_port1 = 5433\n");
    expect(r.content.endsWith("backend_hostname2 = '192.168.4.159'\nbackend_port2 = 54321\n")).toBe(true);
  });

  it('parses quoted values holding # and replaces every active duplicate', () => {
    const conf = "a = 'x # not a comment'   # real comment\nb=1\nb = 2\n";
    expect(apply(conf, { type: 'set-keys', entries: { a: "'y'", b: '3' } }).content).toBe(
      "a = 'y'   # real comment\nb=3\nb = 3\n",
    );
    // The quoted value is read whole, so setting it to itself is no change.
    expect(apply(conf, { type: 'set-keys', entries: { a: "'x # not a comment'" } }).changed).toBe(false);
  });

  it("handles recovery.conf's `key ='value'` form", () => {
    const recovery = "standby_mode='on'\nprimary_slot_name ='slot_srv129'\n";
    expect(
      apply(recovery, { type: 'set-keys', entries: { primary_slot_name: "'slot_srv159'" } }).content,
    ).toBe("standby_mode='on'\nprimary_slot_name ='slot_srv159'\n");
  });

  it('appends in key order, whatever order the entries came in (the hash ignores key order)', () => {
    const one = apply('', { type: 'set-keys', entries: { b: '2', a: '1' } }).content;
    const two = apply('', { type: 'set-keys', entries: { a: '1', b: '2' } }).content;
    expect(one).toBe('a = 1\nb = 2\n');
    expect(two).toBe(one);
  });

  it('refuses bad keys, keys given twice and multi-line values', () => {
    expect(failure('', { type: 'set-keys', entries: { 'a b': '1' } }).code).toBe('bad-edit');
    expect(failure('', { type: 'set-keys', entries: { port: '1', PORT: '2' } }).message).toMatch(
      /given twice/,
    );
    expect(failure('', { type: 'set-keys', entries: { a: '1\nb = 2' } }).message).toMatch(/several lines/);
  });
});

describe('unset-keys', () => {
  it('removes active lines only, case-insensitively', () => {
    const r = apply(PGPOOL_CONF, { type: 'unset-keys', keys: ['Backend_Port1', 'not_there'] });
    expect(r.content).toBe(PGPOOL_CONF.replace('backend_port1 = 54321\t\t# change requires restart\n', ''));
    expect(r.content).toContain('#backend_port1 = 5433\n');
  });
  it('is no change when the key is absent', () => {
    expect(apply(KINGBASE_CONF, { type: 'unset-keys', keys: ['shared_buffers'] }).changed).toBe(false);
  });
});

describe('append-lines / remove-lines', () => {
  const line = 'host all SYSTEM 192.168.4.159/32 md5';

  it('appends only lines not present, comparing with whitespace collapsed', () => {
    const r = apply(SYS_HBA, {
      type: 'append-lines',
      lines: [
        line,
        'host    all   SYSTEM   192.168.4.127/16   md5',
        line,
        'host replication SYSTEM 192.168.4.159/32 md5',
      ],
    });
    expect(r.content).toBe(`${SYS_HBA}${line}\nhost replication SYSTEM 192.168.4.159/32 md5\n`);
  });

  it('does not count a commented-out copy as present', () => {
    expect(apply(`#${line}\n`, { type: 'append-lines', lines: [line] }).content).toBe(`#${line}\n${line}\n`);
  });

  it('removes every matching line, whatever its spacing', () => {
    const r = apply(SYS_HBA, {
      type: 'remove-lines',
      lines: ['host all SYSTEM  192.168.4.129/16 md5', 'host  replication SYSTEM 192.168.4.129/16 md5', line],
    });
    expect(r.content).toBe(
      SYS_HBA.replace('host all SYSTEM 192.168.4.129/16 md5\n', '').replace(
        'host replication SYSTEM 192.168.4.129/16 md5\n',
        '',
      ),
    );
  });

  it('refuses blank lines and embedded line breaks', () => {
    expect(failure(SYS_HBA, { type: 'remove-lines', lines: ['  '] }).code).toBe('bad-edit');
    expect(failure(SYS_HBA, { type: 'append-lines', lines: ['a\nb'] }).code).toBe('bad-edit');
  });
});

describe('shell arrays (HAmodule.conf)', () => {
  it('adds to KB_ALL_IP keeping the spacing, and leaves the commented copy alone', () => {
    const r = apply(HAMODULE, {
      type: 'shell-array-add',
      name: 'KB_ALL_IP',
      values: ['192.168.4.159', '192.168.4.127'],
    });
    expect(r.content).toBe(
      HAMODULE.replace(
        'KB_ALL_IP=(192.168.4.127 192.168.4.129 )',
        'KB_ALL_IP=(192.168.4.127 192.168.4.129 192.168.4.159 )',
      ),
    );
  });

  it('keeps the quoting style of the array', () => {
    expect(
      apply('KB_ALL_IP=("a" "b")\n', { type: 'shell-array-add', name: 'KB_ALL_IP', values: ['c'] }).content,
    ).toBe('KB_ALL_IP=("a" "b" "c")\n');
    expect(apply("X=('a')\n", { type: 'shell-array-add', name: 'X', values: ['b'] }).content).toBe(
      "X=('a' 'b')\n",
    );
    expect(apply('X=()\n', { type: 'shell-array-add', name: 'X', values: ['a', 'b'] }).content).toBe(
      'X=(a b)\n',
    );
    expect(
      apply('export X=( a  b ) # ips\n', { type: 'shell-array-add', name: 'X', values: ['c'] }).content,
    ).toBe('export X=( a  b  c ) # ips\n');
  });

  it('removes values, quoted or not', () => {
    expect(
      apply(HAMODULE, { type: 'shell-array-remove', name: 'KB_ALL_IP', values: ['192.168.4.129'] }).content,
    ).toContain('KB_ALL_IP=(192.168.4.127 )\n#KB_ALL_IP=(10.0.0.1 10.0.0.2 )\n');
    expect(
      apply('X=("a" "b" "c")\n', { type: 'shell-array-remove', name: 'X', values: ['b', 'z'] }).content,
    ).toBe('X=("a" "c")\n');
    expect(apply('X=(a)\n', { type: 'shell-array-remove', name: 'X', values: ['a'] }).content).toBe('X=()\n');
  });

  it('does not invent a missing array', () => {
    const f = failure('KB_LOCALHOST_IP="1.2.3.4"\n#KB_ALL_IP=(a b)\n', {
      type: 'shell-array-add',
      name: 'KB_ALL_IP',
      values: ['c'],
    });
    expect(f.code).toBe('array-missing');
    expect(f.message).toBe('the file has no KB_ALL_IP=( … ) line');
    expect(f.hint).toMatch(/does not invent KB_ALL_IP/);
  });

  it('refuses arrays spread over several lines', () => {
    expect(failure('X=(a\n  b)\n', { type: 'shell-array-add', name: 'X', values: ['c'] }).code).toBe(
      'unsupported-format',
    );
  });

  it('refuses values that are not plain words: the file is run as shell', () => {
    for (const v of ['$(reboot)', 'a b', '"', '`id`', '']) {
      expect(failure(HAMODULE, { type: 'shell-array-add', name: 'KB_ALL_IP', values: [v] }).code).toBe(
        'unsafe-value',
      );
    }
    expect(failure(HAMODULE, { type: 'shell-array-add', name: 'KB ALL', values: ['a'] }).code).toBe(
      'bad-edit',
    );
  });
});

describe('shell-var-set', () => {
  it('replaces the value keeping its quotes and comment', () => {
    expect(
      apply(HAMODULE, { type: 'shell-var-set', name: 'KB_LOCALHOST_IP', value: '192.168.4.159' }).content,
    ).toBe(HAMODULE.replace('KB_LOCALHOST_IP="192.168.4.127"', 'KB_LOCALHOST_IP="192.168.4.159"'));
    expect(
      apply(HAMODULE, { type: 'shell-var-set', name: 'KB_VIP', value: '192.168.4.201' }).content,
    ).toContain('KB_VIP=192.168.4.201  # virtual address\n');
    expect(apply("N='srv127'\n", { type: 'shell-var-set', name: 'N', value: 'srv159' }).content).toBe(
      "N='srv159'\n",
    );
  });

  it('adds the variable, double-quoted, when absent', () => {
    expect(apply(HAMODULE, { type: 'shell-var-set', name: 'NODE_NAME', value: 'srv159' }).content).toBe(
      `${HAMODULE}NODE_NAME="srv159"\n`,
    );
  });

  it('does not touch a longer name that starts the same, nor a commented line', () => {
    expect(
      apply('KB_POOL_IP1="1"\n#KB_POOL="x"\n', { type: 'shell-var-set', name: 'KB_POOL', value: '2' })
        .content,
    ).toBe('KB_POOL_IP1="1"\n#KB_POOL="x"\nKB_POOL="2"\n');
  });

  it('refuses to set an array as a single value, and unsafe values', () => {
    expect(failure(HAMODULE, { type: 'shell-var-set', name: 'KB_ALL_IP', value: 'x' }).code).toBe(
      'unsupported-format',
    );
    expect(failure(HAMODULE, { type: 'shell-var-set', name: 'NODE_NAME', value: 'a;b' }).code).toBe(
      'unsafe-value',
    );
  });
});

describe('replace', () => {
  it('replaces the whole content', () => {
    expect(apply('old\n', { type: 'replace', content: "standby_mode='on'\n" })).toEqual({
      content: "standby_mode='on'\n",
      changed: true,
    });
    expect(apply('same\n', { type: 'replace', content: 'same\n' }).changed).toBe(false);
  });
});

describe('line endings', () => {
  it('keeps CRLF, and new lines use it', () => {
    const crlf = 'a = 1\r\nb = 2\r\n';
    expect(apply(crlf, { type: 'set-keys', entries: { b: '3', c: '4' } }).content).toBe(
      'a = 1\r\nb = 3\r\nc = 4\r\n',
    );
    expect(apply(crlf, { type: 'remove-lines', lines: ['a = 1'] }).content).toBe('b = 2\r\n');
  });

  it('keeps a missing final newline missing', () => {
    expect(apply('a = 1', { type: 'set-keys', entries: { b: '2' } }).content).toBe('a = 1\nb = 2');
    expect(apply('a = 1\nb = 2', { type: 'remove-lines', lines: ['b = 2'] }).content).toBe('a = 1');
    expect(apply('a = 1', { type: 'set-keys', entries: { a: '5' } }).content).toBe('a = 5');
  });

  it('gives a new (empty) file a final newline, and keeps blank lines', () => {
    expect(apply('', { type: 'append-lines', lines: ['x'] }).content).toBe('x\n');
    expect(apply('\n\n', { type: 'append-lines', lines: ['x'] }).content).toBe('\n\nx\n');
  });

  it('leaves mixed endings of untouched lines as they were', () => {
    expect(apply('a\r\nb\nc\r\n', { type: 'append-lines', lines: ['d'] }).content).toBe('a\r\nb\nc\r\nd\r\n');
  });
});
