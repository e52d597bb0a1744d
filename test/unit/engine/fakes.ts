import { createHash } from 'node:crypto';
import type { SecretName, Target } from '../../../src/core/plan';
import type { Run, StoredEvent } from '../../../src/core/run';
import type { Connector } from '../../../src/ports/connector';
import type { FileSnapshot, FileStore } from '../../../src/ports/file-store';
import type { Notifier } from '../../../src/ports/notifier';
import type { ExecOptions, ExecResult, RemoteShell } from '../../../src/ports/remote-shell';
import type { SqlClient, SqlResult } from '../../../src/ports/sql-client';
import type { ShellCommand } from '../../../src/shell/shell-command';

// Test doubles for the executor's ports. They record what was asked of them, so tests can assert
// order and effects; the run store in these tests is the real one (PGlite, in memory).

export type ShellReply = { exitCode: number; stdout?: string; stderr?: string };
export type ShellHandler = (text: string, options: ExecOptions) => Promise<ShellReply> | ShellReply;

export class FakeShell implements RemoteShell {
  readonly calls: string[] = [];
  readonly killed: string[] = [];
  private readonly handlers: Array<[RegExp, ShellHandler]> = [];

  constructor(readonly host: string) {}

  on(pattern: RegExp, handler: ShellHandler): this {
    this.handlers.unshift([pattern, handler]);
    return this;
  }

  async exec(command: ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push(command.text);
    const h = this.handlers.find(([re]) => re.test(command.text));
    const reply = h ? await h[1](command.text, options) : { exitCode: 0 };
    return {
      exitCode: reply.exitCode,
      signal: null,
      stdout: reply.stdout ?? '',
      stderr: reply.stderr ?? '',
      durationMs: 1,
    };
  }

  /** A handler for a command that runs until it is aborted; the abort "kills" it, as the SSH adapter does. */
  hang(): ShellHandler {
    return (text, options) =>
      new Promise((_resolve, reject) => {
        options.signal?.addEventListener('abort', () => {
          this.killed.push(text);
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        });
      });
  }

  async close(): Promise<void> {}
}

export class MemoryFiles implements FileStore {
  readonly files = new Map<string, { content: Buffer; mode: number }>();

  async read(path: string): Promise<FileSnapshot | null> {
    const f = this.files.get(path);
    return f ? { ...f, sha256: createHash('sha256').update(f.content).digest('hex') } : null;
  }

  async write(path: string, content: Buffer, options: { mode?: number } = {}): Promise<void> {
    this.files.set(path, {
      content: Buffer.from(content),
      mode: options.mode ?? this.files.get(path)?.mode ?? 0o644,
    });
  }

  async remove(path: string): Promise<void> {
    this.files.delete(path);
  }
}

export class FakeSql implements SqlClient {
  readonly calls: Array<{ sql: string; params: readonly unknown[] }> = [];
  constructor(
    readonly target: string,
    private readonly answer: (
      sql: string,
      params: readonly unknown[],
    ) => Record<string, unknown>[] = () => [],
  ) {}

  async query<R extends Record<string, unknown>>(
    sql: string,
    params: readonly unknown[] = [],
  ): Promise<SqlResult<R>> {
    this.calls.push({ sql, params });
    const rows = this.answer(sql, params) as R[];
    return { rows, columns: Object.keys(rows[0] ?? {}), rowCount: rows.length };
  }

  async close(): Promise<void> {}
}

export class FakeConnector implements Connector {
  readonly shells = new Map<string, FakeShell>();
  readonly fileStores = new Map<string, MemoryFiles>();
  readonly sqls = new Map<string, FakeSql>();
  sqlAnswer: (sql: string, params: readonly unknown[]) => Record<string, unknown>[] = () => [];

  shellFor(name: string): FakeShell {
    if (!this.shells.has(name)) this.shells.set(name, new FakeShell(name));
    return this.shells.get(name)!;
  }

  filesFor(name: string): MemoryFiles {
    if (!this.fileStores.has(name)) this.fileStores.set(name, new MemoryFiles());
    return this.fileStores.get(name)!;
  }

  async shell(target: Target): Promise<RemoteShell> {
    return this.shellFor(target.name);
  }

  async sql(target: Target): Promise<SqlClient> {
    if (!this.sqls.has(target.name))
      this.sqls.set(target.name, new FakeSql(target.name, (s, p) => this.sqlAnswer(s, p)));
    return this.sqls.get(target.name)!;
  }

  async files(target: Target): Promise<FileStore> {
    return this.filesFor(target.name);
  }

  async secret(name: SecretName): Promise<string> {
    return `secret-of-${name}`;
  }

  async close(): Promise<void> {}
}

export class RecordingNotifier implements Notifier {
  readonly events: StoredEvent[] = [];
  readonly states: string[] = [];
  notify(event: StoredEvent, run: Run): void {
    this.events.push(event);
    this.states.push(run.state);
  }
}
