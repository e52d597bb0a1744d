import type {
  FileFact,
  HaModuleFact,
  ManagerFacts,
  NodeFacts,
  NodeLocation,
} from '../../cluster/cluster-facts';

// What the planner saw of the cluster and the new host: facts and file checksums only, never file
// contents (a server's auto.conf can hold a password). Pure data: it is stored in the plan and
// hashed with it, and the planner and preflight are pure functions of it. The data nodes and
// managers are read as any runbook reads them (src/cluster); the primary's settings and the new
// host are what adding a node needs on top.

export interface PrimaryFacts {
  readonly name: string;
  readonly serverMajor: number | null;
  readonly databaseBytes: number | null;
  readonly maxWalSenders: number | null;
  readonly maxReplicationSlots: number | null;
  readonly maxConnections: number | null;
  readonly walLevel: string | null;
  readonly listenAddresses: string | null;
  readonly port: number | null;
  readonly serverConf: FileFact;
  readonly autoConf: FileFact;
  readonly etcServerConf: FileFact | null;
  readonly etcRecoveryDone: FileFact | null;
  readonly replication: readonly { readonly applicationName: string; readonly state: string }[];
  readonly slots: readonly { readonly name: string; readonly active: boolean }[];
}

export interface NewHostFacts extends NodeLocation {
  readonly reachable: boolean;
  readonly sshError?: string;
  /** Why SSH failed, when the SSH adapter could tell (to give the right hint). */
  readonly sshErrorCode?: string;
  readonly dataDirState: 'absent' | 'empty' | 'non-empty' | 'not-a-directory' | 'unknown';
  readonly dataDirEntries?: number;
  readonly sqlPortInUse: boolean | null;
  /** Free bytes on the filesystem that will hold the data directory. */
  readonly freeBytes: number | null;
  readonly serverMajor: number | null;
  readonly crondRunning: boolean | null;
  readonly firewall: string | null;
  readonly selinux: string | null;
  readonly haModule: HaModuleFact | null;
  readonly etcServerConf: FileFact | null;
  readonly recoveryDone: FileFact | null;
  readonly logDirExists: boolean;
  /** Where the cluster software is copied from the primary: which of its targets already exist. */
  readonly clusterFilesPresent?: readonly string[];
}

export interface AddNodeSnapshot {
  readonly takenAt: string;
  readonly nodes: readonly NodeFacts[];
  readonly primary: PrimaryFacts | null;
  readonly managers: readonly ManagerFacts[];
  readonly newHost: NewHostFacts;
}
