import type { FileFact, ManagerFacts, NodeLocation } from '../../cluster/cluster-facts';

// What the failover runbook reads before it plans a drill or a restore: facts only, never file
// contents (a standby's auto.conf holds a password). Pure data: stored in the plan and hashed.

/** Whether a stopped node can follow the new primary as it is (pg_rewind --dry-run told). */
export type RewindNeed = 'not-needed' | 'needed' | 'unknown';

export interface FailoverNode extends NodeLocation {
  /** `inventory`, or `pool`: a backend of the cluster manager the inventory does not list (a node added since). */
  readonly source: 'inventory' | 'pool';
  /** Its backend index in the cluster manager; null when the manager does not list it. */
  readonly poolIndex: number | null;
  readonly sshOk: boolean;
  readonly sshError?: string;
  /** Its server runs (`pg_ctl status -D`); null: unknown (no SSH). */
  readonly running: boolean | null;
  /** null: it did not answer SQL (see sqlError). */
  readonly inRecovery: boolean | null;
  readonly sqlError?: string;
  /** wal_log_hints or data checksums on: an old primary can be rewound. null: unknown. */
  readonly rewindable: boolean | null;
  /** The files a restore edits, with their checksums. */
  readonly files: {
    readonly standbySignal: FileFact;
    readonly autoConf: FileFact;
    readonly recoveryConf: FileFact;
    /** V8R3's db/etc/recovery.done; null where the dialect has none. */
    readonly recoveryDone: FileFact | null;
  };
  /** The server's own log directory (log_directory of its config, made absolute); null: not set. */
  readonly logDir?: string | null;
  /** Restore only, for a stopped node while one primary runs: can it follow that primary as it is? */
  readonly rewind?: { readonly need: RewindNeed; readonly said: string };
}

export interface ReplicationFact {
  readonly applicationName: string;
  readonly state: string;
  /** Bytes the standby's replay is behind the primary's current position; null: unknown. */
  readonly lagBytes: number | null;
}

/** How the cluster manager fails over, read from its configuration file. */
export interface FailoverConfig {
  readonly node: string;
  /** failover_command; '' when unset or empty. */
  readonly failoverCommand: string;
  /** health_check_period in seconds; 0 turns health checks (and so failure detection) off. */
  readonly healthCheckPeriod: number | null;
  /** Backends whose backend_flag forbids failing them over. */
  readonly disallowed: readonly number[];
  /** backend_data_directoryN and backend_application_nameN by index (to place nodes added since). */
  readonly backends: readonly {
    readonly index: number;
    readonly host: string;
    readonly port: number;
    readonly dataDir: string | null;
    readonly applicationName: string | null;
  }[];
}

export interface FailoverFacts {
  readonly takenAt: string;
  readonly nodes: readonly FailoverNode[];
  /** The running primary's standbys; null when there is not exactly one primary answering. */
  readonly replication: readonly ReplicationFact[] | null;
  /** Replication slots on the primary (names). */
  readonly slots: readonly string[] | null;
  readonly managers: readonly ManagerFacts[];
  readonly failover: readonly FailoverConfig[];
  /** Most replay lag the preflight accepts on the target, in bytes. */
  readonly maxLagBytes: number;
}

export const primaryOf = (f: FailoverFacts): FailoverNode | undefined => {
  const p = f.nodes.filter((n) => n.inRecovery === false);
  return p.length === 1 ? p[0] : undefined;
};

/** The node expected to take over: the one asked for, or the data node the pool got last. */
export function targetNameOf(f: FailoverFacts, asked: string | undefined): string | undefined {
  if (asked !== undefined) return asked;
  const indexed = f.nodes.filter((n) => n.poolIndex !== null);
  if (indexed.length > 0) return indexed.reduce((a, b) => (b.poolIndex! > a.poolIndex! ? b : a)).name;
  return f.nodes.at(-1)?.name;
}

const setting = (text: string, key: string): string | undefined =>
  new RegExp(`^\\s*${key}\\s*=\\s*(?:'((?:[^']|'')*)'|([^#\\s]*))`, 'm')
    .exec(text)
    ?.slice(1)
    .find((v) => v !== undefined)
    ?.replaceAll("''", "'");

/** The failover settings of a pgpool.conf / kingbasecluster.conf. */
export function failoverConfigOf(node: string, text: string): FailoverConfig {
  const period = setting(text, 'health_check_period');
  const backends = [...text.matchAll(/^\s*backend_hostname(\d+)\s*=/gm)].map((m) => {
    const i = Number(m[1]);
    return {
      index: i,
      host: setting(text, `backend_hostname${i}`) ?? '',
      port: Number(setting(text, `backend_port${i}`) ?? 5432),
      dataDir: setting(text, `backend_data_directory${i}`) || null,
      applicationName: setting(text, `backend_application_name${i}`) || null,
    };
  });
  return {
    node,
    failoverCommand: (setting(text, 'failover_command') ?? '').trim(),
    healthCheckPeriod: period === undefined ? 0 : Number.isFinite(Number(period)) ? Number(period) : null,
    disallowed: backends
      .filter((b) => /DISALLOW_TO_FAILOVER/.test(setting(text, `backend_flag${b.index}`) ?? ''))
      .map((b) => b.index),
    backends: backends.sort((a, b) => a.index - b.index),
  };
}

/** log_directory of a postgresql.conf / kingbase.conf, absolute (relative ones are in the data directory). */
export function logDirOf(confText: string, dataDir: string): string | null {
  const m = /^\s*log_directory\s*=\s*'([^']*)'/m.exec(confText)?.[1];
  if (!m) return null;
  return m.startsWith('/') ? m : `${dataDir.replace(/\/+$/, '')}/${m}`;
}

/** What `pg_rewind --dry-run` said about a stopped node. */
export function rewindNeedOf(exitCode: number | null, output: string): RewindNeed {
  if (exitCode !== 0) return 'unknown';
  if (/no rewind required/i.test(output)) return 'not-needed';
  if (/servers diverged at|rewinding from last common checkpoint/i.test(output)) return 'needed';
  return 'unknown';
}
