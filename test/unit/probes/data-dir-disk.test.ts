import { dataDirDiskProbe, parseDataDirDisk } from '../../../src/probes/data-dir-disk';

const DATA = '/home/kingbase/cluster/ESHA/db/data';
const out = (exitCode: number | null, stdout = '', stderr = '') => ({ exitCode, stdout, stderr });

describe('data directory disk', () => {
  it('asks df, POSIX format in KiB, about the data directory alone', () => {
    expect(dataDirDiskProbe(DATA)).toEqual({ kind: 'ssh', argv: ['df', '-P', '-k', '--', DATA] });
  });

  it('gives total and available bytes (GNU coreutils 9.1 output)', () => {
    const r = out(
      0,
      'Filesystem     1024-blocks     Used Available Capacity Mounted on\n' +
        '/dev/vda1        264212084 23264352  83126560      22% /\n',
    );
    expect(parseDataDirDisk(r, DATA)).toEqual({
      ok: true,
      value: { path: DATA, totalBytes: 264212084 * 1024, freeBytes: 83126560 * 1024 },
    });
  });

  it("reads a long device name and a Chinese header (the write-up's CentOS locale)", () => {
    const r = out(
      0,
      '文件系统                 1024-块        已用     可用 已用% 挂载点\n' +
        '/dev/mapper/centos-home 51475068 1234567 50240501    3% /home\n',
    );
    expect(parseDataDirDisk(r, DATA)).toEqual({
      ok: true,
      value: { path: DATA, totalBytes: 51475068 * 1024, freeBytes: 50240501 * 1024 },
    });
  });

  it("reports a missing data directory, never its parent's disk", () => {
    const r = out(1, '', "df: '/home/kingbase/cluster/ESHA/db/data': No such file or directory\n");
    expect(parseDataDirDisk(r, DATA)).toEqual({
      ok: false,
      reason: "df exited 1: df: '/home/kingbase/cluster/ESHA/db/data': No such file or directory",
    });
    expect(parseDataDirDisk(out(null), DATA)).toEqual({ ok: false, reason: 'df was killed: no output' });
  });

  it('refuses output without a file system row', () => {
    expect(
      parseDataDirDisk(out(0, 'Filesystem 1024-blocks Used Available Capacity Mounted on\n'), DATA),
    ).toMatchObject({
      ok: false,
    });
  });
});
