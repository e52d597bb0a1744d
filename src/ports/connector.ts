import type { SecretName, Target } from '../core/plan';
import type { FileStore } from './file-store';
import type { RemoteShell } from './remote-shell';
import type { SqlClient } from './sql-client';

/** How the executor reaches a plan's targets. Connections are opened lazily and reused per run. */
export interface Connector {
  shell(target: Target): Promise<RemoteShell>;
  sql(target: Target, database?: string): Promise<SqlClient>;
  files(target: Target): Promise<FileStore>;
  /** Secrets are handed to steps on stdin, never put in command text. */
  secret(name: SecretName): Promise<string>;
  close(): Promise<void>;
}
