import { quoteConfigValue, quoteConninfoValue, standbyConninfo, type Dialect } from './dialect';

// PostgreSQL 12+ behind pgpool-II (the lab runs PostgreSQL 15 + pgpool-II 4.3.5).

export const postgresqlDialect: Dialect = {
  id: 'postgresql',
  caps: {
    recoveryConf: false, // PG 12 removed recovery.conf: standby.signal + primary_conninfo in auto.conf
    base64ConninfoPassword: false,
    slotsOnStandbys: false, // no failover scripts copy recovery.done around; pgpool re-points standbys
    etcConfigCopy: false,
    haModule: false,
    recoveryDone: false,
    copyClusterFiles: false, // the server comes from the distribution's package on every host
    poolOnlineAttach: true, // pgpool-II 4.3: reload + pcp_attach_node, measured in the lab [C]
  },
  tools: {
    ctl: 'pg_ctl',
    basebackup: 'pg_basebackup',
    psql: 'psql',
    controldata: 'pg_controldata',
    rewind: 'pg_rewind',
    server: 'postgres',
  },
  sql: {
    statReplication: 'pg_stat_replication',
    replicationSlots: 'pg_replication_slots',
    statWalReceiver: 'pg_stat_wal_receiver',
    isInRecovery: 'pg_is_in_recovery',
    reloadConf: 'pg_reload_conf',
    confLoadTime: 'pg_conf_load_time',
    statFile: 'pg_stat_file',
    createPhysicalSlot: 'pg_create_physical_replication_slot',
    dropSlot: 'pg_drop_replication_slot',
    currentWalPosition: 'pg_current_wal_lsn',
    lastReplayPosition: 'pg_last_wal_replay_lsn',
    walPositionDiff: 'pg_wal_lsn_diff',
    databaseSize: 'pg_database_size',
    databaseCatalog: 'pg_database',
    settingsView: 'pg_settings',
    sentColumn: 'sent_lsn',
    writeColumn: 'write_lsn',
    flushColumn: 'flush_lsn',
    replayColumn: 'replay_lsn',
    statArchiver: 'pg_stat_archiver',
    controlCheckpoint: 'pg_control_checkpoint',
    lastReceivePosition: 'pg_last_wal_receive_lsn',
    lastXactReplayTimestamp: 'pg_last_xact_replay_timestamp',
  },
  files: {
    serverConf: 'postgresql.conf',
    autoConf: 'postgresql.auto.conf',
    hbaConf: 'pg_hba.conf',
    pidFile: 'postmaster.pid',
    recoveryConf: 'recovery.conf',
    standbySignal: 'standby.signal',
    controlFile: 'global/pg_control',
  },
  manager: {
    hostname: (n) => `backend_hostname${n}`,
    port: (n) => `backend_port${n}`,
    weight: (n) => `backend_weight${n}`,
    dataDirectory: (n) => `backend_data_directory${n}`,
    flag: (n) => `backend_flag${n}`,
    applicationName: (n) => `backend_application_name${n}`, // pgpool-II ≥ 4.1
  },
  passwordEnv: ['PGPASSWORD'],
  basebackupArgs: ({ host, port, user, dataDir, slot }) => [
    ...['-h', host, '-p', String(port), '-U', user, '-D', dataDir],
    ...['-F', 'p', '-X', 'stream', '-S', slot, '-P', '-v', '-c', 'fast'],
    '-w', // never prompt: a missing PGPASSWORD must fail, not hang the SSH session
  ],
  // recovery_target_timeline defaults to 'latest' since PG 12, so only the connection and slot are set.
  standbyEntries: (s) => ({
    primary_conninfo: quoteConfigValue(standbyConninfo(s)),
    primary_slot_name: quoteConfigValue(s.slotName),
  }),
  conninfoPasswordEncoding: 'conninfo',
  conninfoPasswordText: (password) => quoteConfigValue(quoteConninfoValue(password)).slice(1, -1),
};
