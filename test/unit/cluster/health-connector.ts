import type { SecretName, Target } from '../../../src/core/plan';
import type { Connector } from '../../../src/ports/connector';
import type { FileStore } from '../../../src/ports/file-store';
import type { RemoteShell } from '../../../src/ports/remote-shell';
import type { SqlClient, SqlResult } from '../../../src/ports/sql-client';

// Fake hosts for health readings: what each target answers (or, with no answer set, a refused
// connection) is set per target name, and every question asked is recorded, so a test can say what
// was read, from where, and that nothing but SQL reads was asked.

export type Answer = (sql: string) => Record<string, unknown>[];

export class HealthConnector implements Connector {
  readonly asked: Array<{ target: Target; sql: string }> = [];
  readonly answers = new Map<string, Answer>();
  closed = false;

  async sql(target: Target): Promise<SqlClient> {
    const answer = this.answers.get(target.name);
    if (!answer) throw new Error(`connect ECONNREFUSED ${target.sqlHost ?? target.host}:${target.sqlPort}`);
    const asked = this.asked;
    return {
      async query<R extends Record<string, unknown>>(sql: string): Promise<SqlResult<R>> {
        asked.push({ target, sql });
        const rows = answer(sql) as R[];
        return { rows, columns: Object.keys(rows[0] ?? {}), rowCount: rows.length };
      },
      async close() {},
    } as SqlClient;
  }
  async shell(): Promise<RemoteShell> {
    throw new Error('a health reading runs no command');
  }
  async files(): Promise<FileStore> {
    throw new Error('a health reading reads no file');
  }
  async secret(_name: SecretName): Promise<string> {
    throw new Error('a health reading needs no secret');
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}
