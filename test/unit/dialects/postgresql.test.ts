import { postgresqlDialect as d } from '../../../src/dialects/postgresql';

const standby = {
  primaryHost: '127.0.0.11',
  primaryPort: 54321,
  user: 'postgres',
  applicationName: 'srv13',
  slotName: 'slot_srv13',
  passwordToken: '@@DB_PASSWORD@@',
};

// Reference readers for the two quoting layers, to check that any password round-trips:
// the config scanner (quoted value: '' → ', backslash escapes) and libpq's conninfo parser.
function readConfigValue(quoted: string): string {
  expect(quoted.startsWith("'") && quoted.endsWith("'")).toBe(true);
  const body = quoted.slice(1, -1);
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' };
  return body.replace(/''|\\(.)/gs, (m, c: string | undefined) =>
    m === "''" ? "'" : (escapes[c ?? ''] ?? c ?? ''),
  );
}

function readConninfo(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /\s*(\w+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|(\S+))/gy;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out[m[1] as string] = m[2] !== undefined ? m[2].replace(/\\(.)/gs, '$1') : (m[3] as string);
  }
  return out;
}

/** primary_conninfo as the executor writes it: the token replaced by the dialect's password text. */
const conninfoWith = (password: string): string =>
  (d.standbyEntries(standby).primary_conninfo ?? '')
    .split('@@DB_PASSWORD@@')
    .join(d.conninfoPasswordText(password));

describe('postgresqlDialect', () => {
  it('has the PostgreSQL 12+ capabilities, with online attach (pgpool-II 4.3)', () => {
    expect(d.id).toBe('postgresql');
    expect(d.caps).toEqual({
      recoveryConf: false,
      base64ConninfoPassword: false,
      slotsOnStandbys: false,
      etcConfigCopy: false,
      haModule: false,
      recoveryDone: false,
      copyClusterFiles: false,
      poolOnlineAttach: true,
    });
    expect(d.conninfoPasswordEncoding).toBe('conninfo');
    expect(d.passwordEnv).toEqual(['PGPASSWORD']);
  });

  it('names pg_ tools, *_lsn columns and the PG 10+ functions', () => {
    expect(d.tools.basebackup).toBe('pg_basebackup');
    expect(d.tools.server).toBe('postgres');
    expect(d.sql).toMatchObject({
      currentWalPosition: 'pg_current_wal_lsn',
      lastReplayPosition: 'pg_last_wal_replay_lsn',
      walPositionDiff: 'pg_wal_lsn_diff',
      settingsView: 'pg_settings',
      sentColumn: 'sent_lsn',
      replayColumn: 'replay_lsn',
    });
    expect(d.files).toMatchObject({ autoConf: 'postgresql.auto.conf', standbySignal: 'standby.signal' });
    expect(d.manager.applicationName?.(1)).toBe('backend_application_name1');
  });

  it('names the views and functions a health report reads (archiver, checkpoint timeline, replay)', () => {
    expect(d.sql).toMatchObject({
      statArchiver: 'pg_stat_archiver',
      controlCheckpoint: 'pg_control_checkpoint',
      lastReceivePosition: 'pg_last_wal_receive_lsn',
      lastXactReplayTimestamp: 'pg_last_xact_replay_timestamp',
    });
  });

  it('base-backs up with the slot and -w, so a missing PGPASSWORD fails instead of prompting', () => {
    expect(
      d.basebackupArgs({
        host: '127.0.0.11',
        port: 54321,
        user: 'postgres',
        dataDir: '/d',
        slot: 'slot_srv13',
      }),
    ).toEqual([
      ...['-h', '127.0.0.11', '-p', '54321', '-U', 'postgres', '-D', '/d'],
      ...['-F', 'p', '-X', 'stream', '-S', 'slot_srv13', '-P', '-v', '-c', 'fast', '-w'],
    ]);
  });

  it('puts primary_conninfo and primary_slot_name in postgresql.auto.conf (no standby_mode since PG 12)', () => {
    expect(d.standbyEntries(standby)).toEqual({
      primary_conninfo:
        "'port=54321 host=127.0.0.11 user=postgres password=@@DB_PASSWORD@@ application_name=srv13'",
      primary_slot_name: "'slot_srv13'",
    });
  });

  // Checked on PostgreSQL 15.18: with this in postgresql.auto.conf, `show primary_conninfo` gave
  // password='p\'w \\x"y' and libpq logged in with it to a role whose password is p'w \x"y.
  it('writes a password the server and libpq read back', () => {
    const line = conninfoWith(`p'w \\x"y`);
    expect(line).toBe(
      String.raw`'port=54321 host=127.0.0.11 user=postgres password=''p\\''w \\\\x"y'' application_name=srv13'`,
    );
  });

  it.each(['123456', '', 'two words', "it's", 'back\\slash', "'\\''", 'new\nline', 'ünï金', 'a=b c=d'])(
    'round-trips the password %j through both quoting layers',
    (password) => {
      const conninfo = readConninfo(readConfigValue(conninfoWith(password)));
      expect(conninfo).toEqual({
        port: '54321',
        host: '127.0.0.11',
        user: 'postgres',
        password,
        application_name: 'srv13',
      });
    },
  );
});
