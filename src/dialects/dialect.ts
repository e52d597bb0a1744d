// What differs between KingbaseES V8R3 and PostgreSQL 12+, behind one interface. Runbooks branch
// on `caps` (capabilities), never on `id`. Facts marked [U] in ../shared/procedure are settings
// here, not assumptions baked into runbooks.

export type DialectId = 'kingbase-v8r3' | 'postgresql';

export interface DialectCaps {
  /** Standby settings live in recovery.conf (V8R3 / PG ≤ 11) rather than standby.signal + auto.conf. */
  readonly recoveryConf: boolean;
  /** primary_conninfo carries the password base64-encoded (V8R3's own convention), not in clear. */
  readonly base64ConninfoPassword: boolean;
  /** Keep a replication slot for the new node on every node, so it still has one after a failover. */
  readonly slotsOnStandbys: boolean;
  /** The cluster keeps a master copy of the server config under <clusterPath>/db/etc to edit too. */
  readonly etcConfigCopy: boolean;
  /** Cluster membership lives in db/etc/HAmodule.conf (KB_ALL_IP, KB_LOCALHOST_IP…). */
  readonly haModule: boolean;
  /** db/etc/recovery.done on the new node (the failover scripts copy it over recovery.conf). */
  readonly recoveryDone: boolean;
  /** Cluster software (db/bin, db/lib…) and the cron file are copied from the primary to the new host. */
  readonly copyClusterFiles: boolean;
  /** The manager can attach a new backend online: reload + pcp_attach_node, no restart. */
  readonly poolOnlineAttach: boolean;
}

export interface DialectTools {
  readonly ctl: string; // pg_ctl | sys_ctl
  readonly basebackup: string;
  readonly psql: string;
  readonly controldata: string;
  readonly rewind: string;
  /** The server binary (postgres | kingbase): `<binDir>/<server> --version` tells the installed build. */
  readonly server: string;
}

/** SQL names: functions, views and columns. */
export interface DialectSql {
  readonly statReplication: string; // pg_stat_replication | sys_stat_replication
  readonly replicationSlots: string;
  readonly statWalReceiver: string;
  readonly isInRecovery: string; // function name, called with ()
  readonly reloadConf: string;
  /** When the server last loaded its configuration: pg_conf_load_time | sys_conf_load_time. */
  readonly confLoadTime: string;
  /** A server file's size and times: pg_stat_file | sys_stat_file. */
  readonly statFile: string;
  readonly createPhysicalSlot: string;
  readonly dropSlot: string;
  readonly currentWalPosition: string; // pg_current_wal_lsn | sys_current_xlog_location
  readonly lastReplayPosition: string; // pg_last_wal_replay_lsn | sys_last_xlog_replay_location
  readonly walPositionDiff: string; // pg_wal_lsn_diff | sys_xlog_location_diff
  readonly databaseSize: string;
  /** The catalog of databases (the base backup copies every one of them). */
  readonly databaseCatalog: string;
  /** The settings view: pg_settings | sys_settings. */
  readonly settingsView: string;
  /** Column names of the replication view: *_lsn (PG ≥ 10) or *_location (V8R3). */
  readonly sentColumn: string;
  readonly writeColumn: string;
  readonly flushColumn: string;
  readonly replayColumn: string;
  /** The WAL archiver's counters: pg_stat_archiver | sys_stat_archiver. */
  readonly statArchiver: string;
  /** The last checkpoint's fields (timeline_id…), a function called with (): pg_control_checkpoint. */
  readonly controlCheckpoint: string;
  /** A standby's last received WAL position: pg_last_wal_receive_lsn | sys_last_xlog_receive_location. */
  readonly lastReceivePosition: string;
  /** When the last replayed transaction committed on the primary: pg_last_xact_replay_timestamp. */
  readonly lastXactReplayTimestamp: string;
}

/** File names inside the data directory (and db/etc). */
export interface DialectFiles {
  readonly serverConf: string; // postgresql.conf | kingbase.conf
  readonly autoConf: string; // postgresql.auto.conf | kingbase.auto.conf [U]
  readonly hbaConf: string; // pg_hba.conf | sys_hba.conf
  readonly pidFile: string; // postmaster.pid | kingbase.pid
  readonly recoveryConf: string; // recovery.conf
  readonly standbySignal: string; // standby.signal
  /** Written last by a base backup: its presence means the backup completed. */
  readonly controlFile: string; // global/pg_control
}

/** The cluster manager's config keys (kingbasecluster is a pgpool-II fork with the same keys). */
export interface ManagerKeys {
  readonly hostname: (n: number) => string; // backend_hostnameN
  readonly port: (n: number) => string;
  readonly weight: (n: number) => string;
  readonly dataDirectory: (n: number) => string;
  readonly flag: (n: number) => string;
  readonly applicationName?: (n: number) => string; // pgpool ≥ 4.1
}

export interface StandbySettings {
  readonly primaryHost: string;
  readonly primaryPort: number;
  readonly user: string;
  readonly applicationName: string;
  readonly slotName: string;
  /** Placeholder the executor replaces with the (encoded) password when it writes the file. */
  readonly passwordToken: string;
}

export interface Dialect {
  readonly id: DialectId;
  readonly caps: DialectCaps;
  readonly tools: DialectTools;
  readonly sql: DialectSql;
  readonly files: DialectFiles;
  readonly manager: ManagerKeys;
  /** Environment variables a client tool reads the password from (set from stdin, never argv). */
  readonly passwordEnv: readonly string[];
  /** Base-backup argv (without the tool path) for a plain-format, WAL-streamed copy with progress. */
  basebackupArgs(o: { host: string; port: number; user: string; dataDir: string; slot: string }): string[];
  /**
   * The standby's settings as key → value lines of the file they go into: recovery.conf (V8R3) or
   * postgresql.auto.conf (PG ≥ 12), values already quoted as the server expects.
   */
  standbyEntries(s: StandbySettings): Record<string, string>;
  /** How the password token is encoded into the file: plain or base64 (V8R3). */
  readonly conninfoPasswordEncoding: 'conninfo' | 'base64';
  /**
   * The exact text to write where `passwordToken` stands in `standbyEntries`' values: base64 (V8R3), or
   * the password quoted for a conninfo and then for the config file (plain), so any password round-trips.
   */
  conninfoPasswordText(password: string): string;
}

/**
 * Quotes a value for postgresql.conf / recovery.conf: single quotes, `'` doubled. The server's config
 * scanner also reads backslash escapes inside quoted values, so `\` is doubled and line breaks escaped.
 */
export function quoteConfigValue(value: string): string {
  const escaped = value
    .replaceAll('\\', '\\\\')
    .replaceAll("'", "''")
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r');
  return `'${escaped}'`;
}

/** Quotes one conninfo value when it needs it (empty, whitespace, `'` or `\`), as libpq parses it. */
export function quoteConninfoValue(value: string): string {
  if (value !== '' && !/[\s'\\]/.test(value)) return value;
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * `port=… host=… user=… password=<token> application_name=…` (the write-up's order). The token goes in
 * verbatim: it must survive both quotings unchanged, so it may not hold whitespace, quotes or `\`.
 */
export function standbyConninfo(s: StandbySettings): string {
  if (!/^[^\s'"\\]+$/.test(s.passwordToken)) {
    throw new TypeError('passwordToken must be a plain token: no whitespace, quotes or backslashes');
  }
  const pairs: [string, string][] = [
    ['port', String(s.primaryPort)],
    ['host', s.primaryHost],
    ['user', s.user],
  ];
  const quoted = pairs.map(([k, v]) => `${k}=${quoteConninfoValue(v)}`);
  return [
    ...quoted,
    `password=${s.passwordToken}`,
    `application_name=${quoteConninfoValue(s.applicationName)}`,
  ].join(' ');
}
