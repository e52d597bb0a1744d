import { kingbaseV8r3Dialect as d } from '../../../src/dialects/kingbase-v8r3';
import { fixtureText } from '../probes/fixture';

const standby = {
  primaryHost: '192.168.4.127',
  primaryPort: 54321,
  user: 'SYSTEM',
  applicationName: 'srv159',
  slotName: 'slot_srv159',
  passwordToken: '@@DB_PASSWORD@@',
};

/** `key = value` lines of a config file (the write-up has `primary_slot_name ='…'`). */
const configLines = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => /^(\w+)\s*=\s*(.*)$/.exec(l))
      .map((m) => [m?.[1] ?? '', m?.[2] ?? '']),
  );

describe('kingbaseV8r3Dialect', () => {
  it('has the V8R3 capabilities; online attach is off until kingbasecluster is known to do it', () => {
    expect(d.id).toBe('kingbase-v8r3');
    expect(d.caps).toEqual({
      recoveryConf: true,
      base64ConninfoPassword: true,
      slotsOnStandbys: true,
      etcConfigCopy: true,
      haModule: true,
      recoveryDone: true,
      copyClusterFiles: true,
      poolOnlineAttach: false,
    });
    expect(d.conninfoPasswordEncoding).toBe('base64');
  });

  it('names sys_ tools, views, 9.6-style functions and *_location columns', () => {
    expect(d.tools).toEqual({
      ctl: 'sys_ctl',
      basebackup: 'sys_basebackup',
      psql: 'ksql',
      controldata: 'sys_controldata',
      rewind: 'sys_rewind',
      server: 'kingbase',
    });
    expect(d.sql).toMatchObject({
      statReplication: 'sys_stat_replication',
      replicationSlots: 'sys_replication_slots',
      isInRecovery: 'sys_is_in_recovery',
      createPhysicalSlot: 'sys_create_physical_replication_slot',
      currentWalPosition: 'sys_current_xlog_location',
      lastReplayPosition: 'sys_last_xlog_replay_location',
      walPositionDiff: 'sys_xlog_location_diff',
      settingsView: 'sys_settings',
      sentColumn: 'sent_location',
      writeColumn: 'write_location',
      flushColumn: 'flush_location',
      replayColumn: 'replay_location',
    });
    expect(d.files).toMatchObject({
      serverConf: 'kingbase.conf',
      hbaConf: 'sys_hba.conf',
      pidFile: 'kingbase.pid',
      recoveryConf: 'recovery.conf',
    });
  });

  it('names what a health report reads with the 9.6 names and the sys_ prefix ([U] for V8R3)', () => {
    expect(d.sql).toMatchObject({
      statArchiver: 'sys_stat_archiver',
      controlCheckpoint: 'sys_control_checkpoint',
      lastReceivePosition: 'sys_last_xlog_receive_location',
      lastXactReplayTimestamp: 'sys_last_xact_replay_timestamp',
    });
    // Never a PostgreSQL name, which V8R3 does not have.
    expect(Object.values(d.sql).filter((v) => v.startsWith('pg_'))).toEqual([]);
  });

  it('base-backs up with -X stream and the slot, never a -W password', () => {
    const args = d.basebackupArgs({
      host: '192.168.4.127',
      port: 54321,
      user: 'SYSTEM',
      dataDir: '/home/kingbase/cluster/ESHA/db/data',
      slot: 'slot_srv159',
    });
    expect(args).toEqual([
      ...['-h', '192.168.4.127', '-p', '54321', '-U', 'SYSTEM', '-D', '/home/kingbase/cluster/ESHA/db/data'],
      ...['-F', 'p', '-X', 'stream', '-S', 'slot_srv159', '-P', '-v', '-c', 'fast'],
    ]);
    expect(args.some((a) => /^-W/i.test(a))).toBe(false);
  });

  it("writes the write-up's recovery.conf once the executor puts the base64 password in", () => {
    const entries = d.standbyEntries(standby);
    expect(Object.keys(entries)).toEqual([
      'standby_mode',
      'primary_conninfo',
      'recovery_target_timeline',
      'primary_slot_name',
    ]);
    const written = Object.fromEntries(
      Object.entries(entries).map(([k, v]) => [
        k,
        v.split('@@DB_PASSWORD@@').join(d.conninfoPasswordText('123456')),
      ]),
    );
    expect(written).toEqual(configLines(fixtureText('writeup/recovery-conf.txt')));
  });

  it('keeps the token out of every value but primary_conninfo', () => {
    const entries = d.standbyEntries(standby);
    expect(Object.entries(entries).filter(([, v]) => v.includes('@@DB_PASSWORD@@'))).toEqual([
      ['primary_conninfo', expect.stringContaining('password=@@DB_PASSWORD@@ ')],
    ]);
  });

  it('encodes the password as base64 of its UTF-8 bytes (MTIzNDU2 = 123456)', () => {
    expect(d.conninfoPasswordText('123456')).toBe('MTIzNDU2');
    expect(d.conninfoPasswordText("p'w \\金")).toBe(Buffer.from("p'w \\金", 'utf8').toString('base64'));
  });

  it('sets both password variables ([U] which one the sys_ tools read)', () => {
    expect(d.passwordEnv).toEqual(['KINGBASE_PASSWORD', 'PGPASSWORD']);
  });

  it('has the pgpool 3.x backend keys, without backend_application_name', () => {
    expect([
      d.manager.hostname(2),
      d.manager.port(2),
      d.manager.weight(2),
      d.manager.dataDirectory(2),
    ]).toEqual(['backend_hostname2', 'backend_port2', 'backend_weight2', 'backend_data_directory2']);
    expect(d.manager.flag(0)).toBe('backend_flag0');
    expect(d.manager.applicationName).toBeUndefined();
  });
});
