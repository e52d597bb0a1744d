import {
  parseServerVersion,
  parseVersionText,
  sameMajor,
  serverVersionSql,
} from '../../../src/probes/server-version';
import { fixtureText, valueOf } from './fixture';

const PG15 = {
  version:
    'PostgreSQL 15.18 (Debian 15.18-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14+deb12u1) 12.2.0, 64-bit',
  server_version: '15.18 (Debian 15.18-0+deb12u1)',
  server_version_num: '150018',
};

describe('server version', () => {
  it('asks for all three in one round trip', () => {
    expect(serverVersionSql).toEqual({
      kind: 'sql',
      sql:
        "select version() as version, current_setting('server_version') as server_version, " +
        "current_setting('server_version_num') as server_version_num",
      params: [],
    });
  });

  it('reads PostgreSQL 15 (rows captured from 15.18)', () => {
    expect(valueOf(parseServerVersion([PG15]))).toEqual({
      family: 'postgresql',
      major: '15',
      pgMajor: '15',
      num: 150018,
      text: '15.18 (Debian 15.18-0+deb12u1)',
    });
  });

  it('reads a 9.x major as two numbers', () => {
    expect(valueOf(parseServerVersion([{ server_version: '9.6.24', server_version_num: 90624 }])).major).toBe(
      '9.6',
    );
    expect(valueOf(parseVersionText('PostgreSQL 9.6.24 on x86_64')).major).toBe('9.6');
  });

  it('reads the KingbaseES build name wherever it appears, with upper-cased headers', () => {
    const v = valueOf(
      parseServerVersion([
        {
          VERSION: 'KingbaseES V008R003C002B0160 on x86_64-unknown-linux-gnu, compiled by gcc 4.1.2, 64-bit',
          SERVER_VERSION: '9.6.1',
          SERVER_VERSION_NUM: '90601',
        },
      ]),
    );
    expect(v).toEqual({
      family: 'kingbase',
      major: 'V8R3',
      pgMajor: '9.6',
      num: 90601,
      kingbase: { version: 8, release: 3, c: 2, build: 160 },
      text: 'V008R003C002B0160',
    });
  });

  it("reads the write-up's ksql banner and a kingbase --version line", () => {
    const banner = fixtureText('writeup/recovery-state-promoted.txt').split('\n')[2] ?? '';
    expect(banner).toBe('ksql (V008R003C002B0160)');
    expect(valueOf(parseVersionText(banner))).toMatchObject({
      family: 'kingbase',
      major: 'V8R3',
      pgMajor: null,
    });
    expect(valueOf(parseVersionText('kingbase (KingbaseES) V008R003C002B0160\n')).kingbase).toEqual({
      version: 8,
      release: 3,
      c: 2,
      build: 160,
    });
  });

  it('compares by family and major', () => {
    const pg15 = valueOf(parseVersionText('postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)'));
    const pg15b = valueOf(parseVersionText('PostgreSQL 15.2'));
    const pg16 = valueOf(parseVersionText('postgres (PostgreSQL) 16.4'));
    const kb160 = valueOf(parseVersionText('V008R003C002B0160'));
    const kb170 = valueOf(parseVersionText('V008R003C002B0170'));
    const kbR6 = valueOf(parseVersionText('V008R006C005B0023'));
    expect(sameMajor(pg15, pg15b)).toBe(true);
    expect(sameMajor(pg15, pg16)).toBe(false);
    expect(sameMajor(kb160, kb170)).toBe(true);
    expect(sameMajor(kb160, kbR6)).toBe(false);
    expect(sameMajor(kb160, pg15)).toBe(false);
  });

  it('says when there is no version to read', () => {
    expect(parseServerVersion([])).toEqual({ ok: false, reason: 'the version query returned no row' });
    expect(parseVersionText('hello')).toEqual({ ok: false, reason: 'no version in "hello"' });
  });
});
