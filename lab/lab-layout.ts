import { join } from 'node:path';

// Where everything of one lab instance lives. Pure: every other lab module derives paths from here,
// so `down` can remove exactly what `up` made.

export interface LabHost {
  readonly index: number; // 0-based: 0 primary, 1 standby, 2 empty
  readonly name: string; // srv11 …
  readonly address: string; // 127.0.0.11 …
  readonly root: string; // per-host filesystem root
  readonly clusterPath: string; // <root>/cluster/ESHA
  readonly binDir: string;
  readonly etcDir: string;
  readonly dataDir: string;
  readonly logDir: string;
  readonly sshdDir: string;
  readonly slot: string;
}

export interface LabLayout {
  readonly root: string;
  readonly base: number;
  readonly sshPort: number;
  readonly sqlPort: number;
  readonly osUser: string;
  readonly dbUser: string;
  readonly database: string;
  readonly clusterName: string;
  readonly poolAddress: string;
  readonly hosts: readonly [LabHost, LabHost, LabHost];
  readonly statePath: string;
  readonly inventoryPath: string;
  readonly ssh: {
    readonly dir: string;
    readonly authorizedKeys: string;
    readonly knownHosts: string;
    readonly clientKey: string; // the bot's login key (root-owned)
    readonly peerKey: string; // kingbase's own key, for the failover script
  };
  readonly secrets: {
    readonly dir: string;
    readonly password: string;
    readonly pgpass: string;
    readonly pcppass: string;
  };
  readonly pool: {
    readonly dir: string;
    readonly conf: string;
    readonly pcpConf: string;
    readonly hbaConf: string;
    readonly passwd: string;
    readonly runDir: string;
    readonly pidFile: string;
    readonly logFile: string;
    readonly failoverScript: string;
    readonly failoverLog: string;
    readonly sqlPort: number;
    readonly pcpPort: number;
  };
}

export interface LabOptions {
  /** Lab directory; everything the lab creates on disk is below it (bar the OS user). */
  readonly root?: string;
  /** Last octet of the pool address; hosts take the next three (10 → .10 pool, .11–.13 hosts). */
  readonly base?: number;
  readonly sshPort?: number;
}

const SAFE_PATH = /^\/[A-Za-z0-9_./-]+$/;

export function labLayout(options: LabOptions = {}): LabLayout {
  const base = options.base ?? 10;
  const root = options.root ?? '/var/lib/kbops-lab';
  // The failover script and pgpool's config hold these paths unquoted: keep them plain.
  if (!SAFE_PATH.test(root) || root.split('/').includes('..') || root === '/') {
    throw new Error(`lab directory must be an absolute path of [A-Za-z0-9_./-], got ${JSON.stringify(root)}`);
  }
  if (!Number.isInteger(base) || base < 2 || base > 250)
    throw new Error(`lab base octet must be 2–250, got ${base}`);
  const clusterName = 'ESHA';
  const host = (index: number): LabHost => {
    const octet = base + 1 + index;
    const name = `srv${octet}`;
    const hostRoot = join(root, 'hosts', name);
    const clusterPath = join(hostRoot, 'cluster', clusterName);
    return {
      index,
      name,
      address: `127.0.0.${octet}`,
      root: hostRoot,
      clusterPath,
      binDir: join(clusterPath, 'db', 'bin'),
      etcDir: join(clusterPath, 'db', 'etc'),
      dataDir: join(clusterPath, 'db', 'data'),
      logDir: join(clusterPath, 'log'),
      sshdDir: join(hostRoot, 'sshd'),
      slot: `slot_${name}`,
    };
  };
  const hosts = [host(0), host(1), host(2)] as const;
  const poolDir = join(hosts[0].clusterPath, 'kingbasecluster');
  const sshDir = join(root, 'ssh');
  const secretsDir = join(root, 'secrets');
  return {
    root,
    base,
    sshPort: options.sshPort ?? 22,
    sqlPort: 54321,
    osUser: 'kingbase',
    dbUser: 'SYSTEM',
    database: 'TEST',
    clusterName,
    poolAddress: `127.0.0.${base}`,
    hosts,
    statePath: join(root, 'lab-state.json'),
    inventoryPath: join(root, 'kbops.yaml'),
    ssh: {
      dir: sshDir,
      authorizedKeys: join(sshDir, 'authorized_keys'),
      knownHosts: join(sshDir, 'known_hosts'),
      clientKey: join(sshDir, 'kbops_ed25519'),
      peerKey: join(sshDir, 'kingbase_ed25519'),
    },
    secrets: {
      dir: secretsDir,
      password: join(secretsDir, 'db.password'),
      pgpass: join(secretsDir, 'pgpass'),
      pcppass: join(secretsDir, 'pcppass'),
    },
    pool: {
      dir: poolDir,
      conf: join(poolDir, 'etc', 'pgpool.conf'),
      pcpConf: join(poolDir, 'etc', 'pcp.conf'),
      hbaConf: join(poolDir, 'etc', 'pool_hba.conf'),
      passwd: join(poolDir, 'etc', 'pool_passwd'),
      runDir: join(poolDir, 'run'),
      pidFile: join(poolDir, 'run', 'pgpool.pid'),
      logFile: join(poolDir, 'log', 'pgpool.log'),
      failoverScript: join(poolDir, 'bin', 'failover.sh'),
      failoverLog: join(poolDir, 'log', 'failover.log'),
      sqlPort: 9999,
      pcpPort: 9898,
    },
  };
}

/** Options from the environment, so tests can run a second lab beside the default one. */
export function labOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): LabOptions {
  const num = (name: string): number | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${name} must be a whole number, got ${JSON.stringify(v)}`);
    return n;
  };
  const root = env.KBOPS_LAB_DIR;
  const base = num('KBOPS_LAB_BASE');
  const sshPort = num('KBOPS_LAB_SSH_PORT');
  return {
    ...(root !== undefined && root !== '' && { root }),
    ...(base !== undefined && { base }),
    ...(sshPort !== undefined && { sshPort }),
  };
}
