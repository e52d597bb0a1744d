import { quoteConfigValue, standbyConninfo, type Dialect } from './dialect';

// KingbaseES V8R3 ≈ PostgreSQL 9.6 with sys_ names, behind kingbasecluster (a pgpool-II 3.6/3.7 fork).
// Facts from ../shared/procedure (§2): [C] unless a comment says [I] or [U].

export const kingbaseV8r3Dialect: Dialect = {
  id: 'kingbase-v8r3',
  caps: {
    recoveryConf: true,
    base64ConninfoPassword: true,
    slotsOnStandbys: true, // [I] the installer's habit: after a failover the new primary still has the slot
    etcConfigCopy: true,
    haModule: true,
    recoveryDone: true,
    copyClusterFiles: true,
    // Off by default: the write-up restarts kingbasecluster to pick up a new backend. pgpool-II 4.3 can
    // attach online, but kingbasecluster doing so is [U]; a deployment that has tried it can turn it on.
    poolOnlineAttach: false,
  },
  tools: {
    ctl: 'sys_ctl',
    basebackup: 'sys_basebackup',
    psql: 'ksql',
    controldata: 'sys_controldata',
    rewind: 'sys_rewind',
    server: 'kingbase',
  },
  sql: {
    statReplication: 'sys_stat_replication',
    replicationSlots: 'sys_replication_slots',
    statWalReceiver: 'sys_stat_wal_receiver',
    isInRecovery: 'sys_is_in_recovery',
    reloadConf: 'sys_reload_conf',
    confLoadTime: 'sys_conf_load_time', // [I] the 9.6 name with the sys_ prefix (procedure §2)
    statFile: 'sys_stat_file', // [I] the 9.6 name with the sys_ prefix (procedure §2)
    createPhysicalSlot: 'sys_create_physical_replication_slot',
    dropSlot: 'sys_drop_replication_slot',
    currentWalPosition: 'sys_current_xlog_location',
    lastReplayPosition: 'sys_last_xlog_replay_location', // [I] the 9.6 name with the sys_ prefix
    walPositionDiff: 'sys_xlog_location_diff',
    databaseSize: 'sys_database_size', // [I] seen in KingbaseES scripts; the 9.6 name with sys_
    databaseCatalog: 'sys_database', // [I] the 9.6 catalog with the sys_ prefix
    settingsView: 'sys_settings', // [I] seen in KingbaseES monitoring scripts
    sentColumn: 'sent_location',
    writeColumn: 'write_location',
    flushColumn: 'flush_location',
    replayColumn: 'replay_location',
    // [U] below: the 9.6 names with the sys_ prefix, as for the views above; none of them appears in
    // ../shared/procedure or ../shared/seed (the seed shows only that an archiver process runs).
    statArchiver: 'sys_stat_archiver',
    controlCheckpoint: 'sys_control_checkpoint',
    lastReceivePosition: 'sys_last_xlog_receive_location',
    lastXactReplayTimestamp: 'sys_last_xact_replay_timestamp',
  },
  files: {
    serverConf: 'kingbase.conf',
    autoConf: 'kingbase.auto.conf', // [U] for V8R3 (later releases use this name)
    hbaConf: 'sys_hba.conf',
    pidFile: 'kingbase.pid',
    recoveryConf: 'recovery.conf',
    standbySignal: 'standby.signal', // unused: V8R3 has recovery.conf
    controlFile: 'global/sys_control', // [I] the name in later KingbaseES releases
  },
  manager: {
    hostname: (n) => `backend_hostname${n}`,
    port: (n) => `backend_port${n}`,
    weight: (n) => `backend_weight${n}`,
    dataDirectory: (n) => `backend_data_directory${n}`,
    flag: (n) => `backend_flag${n}`,
    // no backend_application_nameN: that key came with pgpool-II 4.1
  },
  // [U] which variable sys_basebackup/ksql read; V8R3 tools take `-W <password>`, which must never be
  // used (command lines are visible in ps and logs), so both names are set from stdin.
  passwordEnv: ['KINGBASE_PASSWORD', 'PGPASSWORD'],
  // 9.6 flags: -X stream (the installer's choice; -x in the write-up), -S needs -X stream, -c fast. No -w:
  // in V8R3 tools -W takes a value, and what -w means there is [U].
  basebackupArgs: ({ host, port, user, dataDir, slot }) => [
    ...['-h', host, '-p', String(port), '-U', user, '-D', dataDir],
    ...['-F', 'p', '-X', 'stream', '-S', slot, '-P', '-v', '-c', 'fast'],
  ],
  standbyEntries: (s) => ({
    standby_mode: quoteConfigValue('on'),
    primary_conninfo: quoteConfigValue(standbyConninfo(s)),
    recovery_target_timeline: quoteConfigValue('latest'),
    primary_slot_name: quoteConfigValue(s.slotName),
  }),
  conninfoPasswordEncoding: 'base64',
  // Base64 is not encryption (MTIzNDU2 = 123456): the file stays a secret. Its alphabet needs no quoting.
  conninfoPasswordText: (password) => Buffer.from(password, 'utf8').toString('base64'),
};
