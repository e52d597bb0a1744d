import { posix } from 'node:path';
import type { Dialect, ParsedCluster, ParsedInventory, SecretRef, TlsMode } from './inventory-schema';
import { defaultSqlPort } from './inventory-rules';
import { normaliseReports, type ReportSchedule } from './report-schedules';

export type { ReportCharts, ReportSchedule } from './report-schedules';

export interface NodeConfig {
  readonly name: string;
  readonly host: string;
  readonly sshPort: number;
  readonly sqlPort: number;
  readonly clusterPath: string;
  readonly dataDir: string;
  readonly binDir: string;
  /**
   * Pinned fingerprints. When given, the only keys accepted for this node (ssh.knownHostsFile then
   * counts for it only through @revoked lines); empty means "look the host up in ssh.knownHostsFile".
   */
  readonly hostKeys: readonly string[];
}

export interface ManagerNodeConfig {
  readonly node: string;
  readonly host: string;
  readonly sqlPort: number;
  readonly pcpPort: number;
  readonly configFile: string;
  readonly logFile?: string;
}

export interface ManagerConfig {
  readonly kind: 'kingbasecluster' | 'pgpool';
  readonly binDir: string;
  readonly pcpUser: string;
  readonly pcpPassword: SecretRef;
  readonly nodes: readonly ManagerNodeConfig[];
}

export interface ClusterConfig {
  readonly name: string;
  readonly dialect: Dialect;
  readonly clusterPath: string;
  readonly ssh: {
    readonly user: string;
    readonly privateKeyFile: string;
    readonly passphrase?: SecretRef;
    readonly knownHostsFile?: string;
  };
  readonly db: {
    readonly user: string;
    readonly database: string;
    readonly password: SecretRef;
    readonly tls: { readonly mode: TlsMode; readonly caFile?: string };
  };
  readonly nodes: readonly NodeConfig[];
  readonly manager?: ManagerConfig;
  readonly access: ParsedCluster['access'];
  readonly allowUnattendedCli: boolean;
}

export interface Inventory {
  readonly clusters: Readonly<Record<string, ClusterConfig>>;
  /** Scheduled health reports, in inventory order (empty when the inventory has none). */
  readonly reports: readonly ReportSchedule[];
}

/** A cluster path may hold `{name}`, for sites that put the node name in their paths (and the lab). */
export const clusterPathFor = (template: string, nodeName: string): string =>
  template.replaceAll('{name}', nodeName);

function normaliseCluster(name: string, c: ParsedCluster): ClusterConfig {
  const sqlPort = c.sqlPort ?? defaultSqlPort(c.dialect);
  const nodes: NodeConfig[] = c.nodes.map((n) => {
    const clusterPath = clusterPathFor(n.clusterPath ?? c.clusterPath, n.name);
    return {
      name: n.name,
      host: n.host,
      sshPort: n.sshPort ?? c.ssh.port,
      sqlPort: n.sqlPort ?? sqlPort,
      clusterPath,
      dataDir: n.dataDir ?? posix.join(clusterPath, 'db', 'data'),
      binDir: n.binDir ?? posix.join(clusterPath, 'db', 'bin'),
      hostKeys: n.hostKeys ?? [],
    };
  });
  const hostOf = (node: string): string => nodes.find((n) => n.name === node)?.host ?? node;
  const manager: ManagerConfig | undefined = c.manager && {
    kind: c.manager.kind,
    binDir:
      c.manager.binDir ??
      (c.manager.kind === 'pgpool'
        ? '/usr/sbin'
        : posix.join(
            clusterPathFor(c.clusterPath, c.manager.nodes[0]?.node ?? ''),
            'kingbasecluster',
            'bin',
          )),
    pcpUser: c.manager.pcpUser ?? c.db.user,
    pcpPassword: c.manager.pcpPassword ?? c.db.password,
    nodes: c.manager.nodes.map((m) => ({ ...m, host: m.host ?? hostOf(m.node) })),
  };
  return {
    name,
    dialect: c.dialect,
    clusterPath: c.clusterPath,
    ssh: {
      user: c.ssh.user,
      privateKeyFile: c.ssh.privateKeyFile,
      ...(c.ssh.passphrase && { passphrase: c.ssh.passphrase }),
      ...(c.ssh.knownHostsFile && { knownHostsFile: c.ssh.knownHostsFile }),
    },
    db: {
      user: c.db.user,
      database: c.db.database,
      password: c.db.password,
      tls: { mode: c.db.tls.mode, ...(c.db.tls.caFile && { caFile: c.db.tls.caFile }) },
    },
    nodes,
    ...(manager && { manager }),
    access: c.access,
    allowUnattendedCli: c.allowUnattendedCli,
  };
}

/** Fills every default so that no consumer has to know them. */
export function normaliseInventory(parsed: ParsedInventory): Inventory {
  return {
    clusters: Object.fromEntries(
      Object.entries(parsed.clusters).map(([name, c]) => [name, normaliseCluster(name, c)]),
    ),
    reports: normaliseReports(parsed.reports, Object.keys(parsed.clusters)),
  };
}
