// What a reading of a cluster found on its data nodes and cluster managers: facts and file checksums
// only, never file contents (a server's auto.conf can hold a password). Pure data: runbooks store it
// in their plans and hash it, and their preflights are pure functions of it.

export interface FileFact {
  readonly path: string;
  /** null: the file does not exist. */
  readonly sha256: string | null;
}

export interface HaModuleFact extends FileFact {
  readonly allIps: readonly string[];
  readonly hasNodeName: boolean;
}

/** Where a node is and where its files are: what every fact about it starts with. */
export interface NodeLocation {
  readonly name: string;
  readonly host: string;
  readonly sshPort: number;
  readonly sqlPort: number;
  readonly dataDir: string;
  readonly binDir: string;
  readonly clusterPath: string;
}

export interface NodeFacts extends NodeLocation {
  /** null: it did not answer (see error). */
  readonly inRecovery: boolean | null;
  readonly error?: string;
  readonly hba: FileFact & { readonly authMethod: string | null };
  readonly haModule: HaModuleFact | null;
  readonly managerHaModule?: HaModuleFact | null;
}

export interface PoolNodeFact {
  readonly nodeId: number;
  readonly hostname: string;
  readonly port: number;
  readonly status: string;
  readonly role: string;
  readonly lbWeight: number;
}

export interface ManagerBackend {
  readonly index: number;
  readonly hostname: string;
  readonly port: number;
  readonly weight: number;
}

export interface ManagerFacts {
  readonly node: string;
  readonly host: string;
  readonly sqlPort: number;
  readonly pcpPort: number;
  readonly configFile: string;
  readonly config: FileFact;
  readonly backends: readonly ManagerBackend[];
  readonly usesApplicationName: boolean;
  readonly poolNodes: readonly PoolNodeFact[] | null;
  readonly error?: string;
}

// Facts read out of file contents (pure; the contents themselves are not kept).

/** Members of a HAmodule.conf shell array such as KB_ALL_IP=(192.168.4.127 "192.168.4.129"). */
export function shellArrayValues(text: string, name: string): string[] {
  const m = new RegExp(`^\\s*${name}\\s*=\\s*\\(([^)]*)\\)`, 'm').exec(text);
  return m
    ? m[1]!
        .split(/\s+/)
        .map((v) => v.replace(/^["']|["']$/g, ''))
        .filter(Boolean)
    : [];
}

/** The auth method of the first hba line allowing replication connections (to reuse for new lines). */
export function hbaReplicationMethod(text: string): string | null {
  for (const line of text.split('\n')) {
    const f = line.replace(/#.*/, '').trim().split(/\s+/);
    if (f[0] === 'host' && f[1] === 'replication' && f.length >= 5) return f[f.length - 1] ?? null;
  }
  return null;
}

/** backend_hostnameN / portN / weightN of a pgpool.conf or kingbasecluster.conf. */
export function managerBackends(text: string): ManagerBackend[] {
  const value = (key: string): string | undefined =>
    new RegExp(`^\\s*${key}\\s*=\\s*'?([^'#\\s]*)'?`, 'm').exec(text)?.[1];
  const out: ManagerBackend[] = [];
  for (const m of text.matchAll(/^\s*backend_hostname(\d+)\s*=\s*'?([^'#\s]*)'?/gm)) {
    const index = Number(m[1]);
    out.push({
      index,
      hostname: m[2] ?? '',
      port: Number(value(`backend_port${index}`) ?? 5432),
      weight: Number(value(`backend_weight${index}`) ?? 1),
    });
  }
  return out.sort((a, b) => a.index - b.index);
}

export const usesBackendApplicationName = (text: string): boolean =>
  /^\s*backend_application_name\d+\s*=/m.test(text);
