import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import { postgresqlDialect as pg } from '../../../src/dialects/postgresql';
import {
  cronProbes,
  dirStateProbe,
  diskFreeProbe,
  firewalldProbe,
  isListening,
  listenersProbe,
  parseCronRunning,
  parseDirState,
  parseDiskFree,
  parseFirewalld,
  parseListeners,
  parseSelinux,
  parseSoftwareVersion,
  selfAndAncestors,
  selinuxProbe,
  softwareVersionProbe,
} from '../../../src/probes/host-probes';
import { valueOf } from './fixture';

const out = (exitCode: number | null, stdout = '', stderr = '') => ({ exitCode, stdout, stderr });

describe('free disk', () => {
  const dataDir = '/home/kingbase/cluster/ESHA/db/data';

  it('asks df about the path and every ancestor, so a path not made yet still gets measured', () => {
    expect(diskFreeProbe(dataDir)).toEqual({
      kind: 'ssh',
      argv: [
        ...['df', '-Pk', '--', dataDir],
        ...['/home/kingbase/cluster/ESHA/db', '/home/kingbase/cluster/ESHA', '/home/kingbase/cluster'],
        ...['/home/kingbase', '/home', '/'],
      ],
    });
    expect(selfAndAncestors('/')).toEqual(['/']);
    expect(selfAndAncestors('/a//b/')).toEqual(['/a/b', '/a', '/']);
    expect(selfAndAncestors('rel/dir')).toEqual(['rel/dir']);
  });

  it('measures the nearest existing ancestor (GNU df 9.1 output: exit 1, errors for the missing ones)', () => {
    const candidates = ['/tmp/nonexist/a', '/tmp/nonexist', '/tmp', '/'];
    const r = out(
      1,
      'Filesystem     1024-blocks     Used Available Capacity Mounted on\n' +
        '/dev/vda         264212084 23264352  83126560      22% /\n' +
        '/dev/vda         264212084 23264352  83126560      22% /\n',
      'df: /tmp/nonexist/a: No such file or directory\ndf: /tmp/nonexist: No such file or directory\n',
    );
    expect(parseDiskFree(r, candidates)).toEqual({
      ok: true,
      value: {
        availableBytes: 83126560 * 1024,
        totalBytes: 264212084 * 1024,
        mountPoint: '/',
        measuredPath: '/tmp',
      },
    });
  });

  it('reads quoted paths in newer df errors, Chinese ones, and mount points with spaces', () => {
    const r = out(
      1,
      'Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/sdb1 1000 400 600 40% /mnt/my data\n',
      "df: '/mnt/my data/x': 没有那个文件或目录\n",
    );
    expect(valueOf(parseDiskFree(r, ['/mnt/my data/x', '/mnt/my data', '/mnt', '/']))).toEqual({
      availableBytes: 600 * 1024,
      totalBytes: 1000 * 1024,
      mountPoint: '/mnt/my data',
      measuredPath: '/mnt/my data',
    });
  });

  it('says when df gave no filesystem row', () => {
    expect(parseDiskFree(out(127, '', 'sh: 1: df: not found'), ['/'])).toEqual({
      ok: false,
      reason: 'df exited 127 without a filesystem row: sh: 1: df: not found',
    });
  });
});

describe('directory state', () => {
  it('lists with a trailing / so a file is not taken for a directory', () => {
    expect(dirStateProbe('/data')).toEqual({ kind: 'ssh', argv: ['ls', '-A1', '--', '/data/'] });
    expect(dirStateProbe('/data/').argv).toEqual(['ls', '-A1', '--', '/data/']);
  });

  it('tells empty, non-empty, absent and not-a-directory apart', () => {
    expect(parseDirState(out(0))).toEqual({ ok: true, value: { state: 'empty' } });
    expect(parseDirState(out(0, 'base\nglobal\npg_wal\nPG_VERSION\npostgresql.conf\nsys_log\n'))).toEqual({
      ok: true,
      value: {
        state: 'non-empty',
        entries: 6,
        sample: ['base', 'global', 'pg_wal', 'PG_VERSION', 'postgresql.conf'],
      },
    });
    expect(parseDirState(out(2, '', "ls: cannot access '/nonexist/': No such file or directory\n"))).toEqual({
      ok: true,
      value: { state: 'absent' },
    });
    expect(parseDirState(out(2, '', 'ls: 无法访问/home/kingbase/x/: 没有那个文件或目录\n'))).toEqual({
      ok: true,
      value: { state: 'absent' },
    });
    expect(parseDirState(out(2, '', "ls: cannot access '/etc/hostname/': Not a directory\n"))).toEqual({
      ok: true,
      value: { state: 'not-a-directory' },
    });
  });

  it('cannot tell when it may not look', () => {
    expect(parseDirState(out(2, '', "ls: cannot open directory '/root/': Permission denied\n"))).toEqual({
      ok: false,
      reason: "ls exited 2: ls: cannot open directory '/root/': Permission denied",
    });
  });
});

describe('listening ports', () => {
  // ss from iproute2 6.1 (this lab): the header glued to "Process"; CentOS 7's older ss prints `:::22`.
  const ss = [
    'State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess',
    'LISTEN 0      244       127.0.0.12:54321      0.0.0.0:*          ',
    'LISTEN 0      128       127.0.0.11:22         0.0.0.0:*          ',
    'LISTEN 0      32        127.0.0.10:9999       0.0.0.0:*          ',
    'LISTEN 0      128          0.0.0.0:9898       0.0.0.0:*          ',
    'LISTEN 0      128             [::]:5432          [::]:*          ',
    'LISTEN 0      128            [::1]:6000          [::]:*          ',
    'LISTEN 0      128                *:9000             *:*          ',
    'LISTEN 0      128    127.0.0.53%lo:53         0.0.0.0:*          ',
    'LISTEN 0      128               :::22              :::*          ',
  ].join('\n');

  it('runs ss without -H (CentOS 7 does not know it)', () => {
    expect(listenersProbe).toEqual({ kind: 'ssh', argv: ['ss', '-ltn'] });
  });

  it('reads every address form', () => {
    expect(valueOf(parseListeners(out(0, ss)))).toEqual([
      { address: '127.0.0.12', port: 54321 },
      { address: '127.0.0.11', port: 22 },
      { address: '127.0.0.10', port: 9999 },
      { address: '0.0.0.0', port: 9898 },
      { address: '::', port: 5432 },
      { address: '::1', port: 6000 },
      { address: '*', port: 9000 },
      { address: '127.0.0.53', port: 53 },
      { address: '::', port: 22 },
    ]);
  });

  it('matches an address exactly or through a wildcard', () => {
    const l = valueOf(parseListeners(out(0, ss)));
    expect(isListening(l, '127.0.0.12', 54321)).toBe(true);
    expect(isListening(l, '127.0.0.13', 54321)).toBe(false); // another lab host, same port: free
    expect(isListening(l, '192.168.4.159', 9898)).toBe(true); // 0.0.0.0
    expect(isListening(l, '::1', 9898)).toBe(false); // 0.0.0.0 is IPv4 only
    expect(isListening(l, '192.168.4.159', 5432)).toBe(true); // [::] is dual-stack
    expect(isListening(l, '10.0.0.1', 9000)).toBe(true); // *
    expect(isListening(l, '127.0.0.1', 6000)).toBe(false);
  });

  it('says when ss could not run', () => {
    expect(parseListeners(out(127, '', 'bash: ss: command not found'))).toEqual({
      ok: false,
      reason: 'ss exited 127: bash: ss: command not found',
    });
  });
});

describe('crond', () => {
  it('looks for crond (RHEL) and cron (Debian)', () => {
    expect(cronProbes.map((p) => p.argv)).toEqual([
      ['pgrep', '-x', 'crond'],
      ['pgrep', '-x', 'cron'],
    ]);
  });

  it('is running when either is found, not running when pgrep found neither', () => {
    expect(parseCronRunning([out(0, '812\n'), out(1)])).toEqual({ ok: true, value: true });
    expect(parseCronRunning([out(1), out(0, '455\n')])).toEqual({ ok: true, value: true });
    expect(parseCronRunning([out(1), out(1)])).toEqual({ ok: true, value: false });
  });

  it('cannot tell without pgrep', () => {
    expect(parseCronRunning([out(127, '', 'sh: 1: pgrep: not found'), out(127)])).toEqual({
      ok: false,
      reason: 'pgrep exited 127: sh: 1: pgrep: not found',
    });
    expect(parseCronRunning([])).toEqual({ ok: false, reason: 'no pgrep output' });
  });
});

describe('firewall and SELinux', () => {
  it('asks systemctl and getenforce', () => {
    expect(firewalldProbe.argv).toEqual(['systemctl', 'is-active', 'firewalld']);
    expect(selinuxProbe.argv).toEqual(['getenforce']);
  });

  it('reads firewalld states', () => {
    expect(parseFirewalld(out(0, 'active\n'))).toBe('active');
    expect(parseFirewalld(out(3, 'inactive\n'))).toBe('inactive');
    expect(parseFirewalld(out(3, 'failed\n'))).toBe('inactive');
    expect(parseFirewalld(out(4, 'unknown\n'))).toBe('unknown'); // no such unit on older systemd
    // This lab's container: no systemd at all.
    expect(
      parseFirewalld(
        out(
          1,
          '',
          "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n",
        ),
      ),
    ).toBe('unknown');
  });

  it('reads SELinux modes, and its absence', () => {
    expect(parseSelinux(out(0, 'Enforcing\n'))).toEqual({ ok: true, value: 'Enforcing' });
    expect(parseSelinux(out(0, 'Permissive\n'))).toEqual({ ok: true, value: 'Permissive' });
    expect(parseSelinux(out(0, 'Disabled\n'))).toEqual({ ok: true, value: 'Disabled' });
    expect(parseSelinux(out(127, '', 'sh: 1: getenforce: not found\n'))).toEqual({
      ok: true,
      value: 'absent',
    });
    expect(parseSelinux(out(1, '', 'getenforce: oops'))).toEqual({
      ok: false,
      reason: 'getenforce exited 1: getenforce: oops',
    });
  });
});

describe('installed server version', () => {
  it("runs the dialect's server binary from the bin directory", () => {
    expect(softwareVersionProbe(pg, '/usr/lib/postgresql/15/bin/').argv).toEqual([
      '/usr/lib/postgresql/15/bin/postgres',
      '--version',
    ]);
    expect(softwareVersionProbe(kb, '/home/kingbase/cluster/ESHA/db/bin').argv).toEqual([
      '/home/kingbase/cluster/ESHA/db/bin/kingbase',
      '--version',
    ]);
  });

  it('reads the major', () => {
    expect(
      valueOf(parseSoftwareVersion(out(0, 'postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n'))).major,
    ).toBe('15');
    expect(valueOf(parseSoftwareVersion(out(0, 'kingbase (KingbaseES) V008R003C002B0160\n'))).major).toBe(
      'V8R3',
    );
    expect(parseSoftwareVersion(out(126, '', 'Permission denied'))).toEqual({
      ok: false,
      reason: '--version exited 126: Permission denied',
    });
  });
});
