import type { Target } from '../../../src/core/plan';
import type { ExecResult, RemoteShell } from '../../../src/ports/remote-shell';
import type { SqlClient, SqlOptions } from '../../../src/ports/sql-client';
import { isShellCommand, type ShellCommand } from '../../../src/shell/shell-command';
import { HealthConnector } from './health-connector';

// HealthConnector (SQL answers per target name) plus what a report reading also needs: SSH
// commands answered per target name, and hosts that accept a connection and never answer (their
// connects never settle), the way a hung or firewalled host behaves.

export type ShellAnswer = (command: string) => ExecResult;

export const exited = (exitCode: number, stdout: string, stderr = ''): ExecResult => ({
  exitCode,
  signal: null,
  stdout,
  stderr,
  durationMs: 1,
});

export class ReportConnector extends HealthConnector {
  readonly shellAnswers = new Map<string, ShellAnswer>();
  readonly commands: Array<{ target: Target; command: string }> = [];
  /** Target names whose SQL and SSH connects never settle. */
  readonly silent = new Set<string>();
  /** Per target name, the queries that never answer; the signal each was given is kept. */
  readonly hangOn = new Map<string, RegExp>();
  readonly hungSignals: Array<AbortSignal | undefined> = [];

  override async sql(target: Target): Promise<SqlClient> {
    if (this.silent.has(target.name)) return new Promise<SqlClient>(() => undefined);
    const client = await super.sql(target);
    const hang = this.hangOn.get(target.name);
    if (!hang) return client;
    const hung = this.hungSignals;
    return {
      ...client,
      query: (sql: string, params?: readonly unknown[], options?: SqlOptions) => {
        if (!hang.test(sql)) return client.query(sql, params, options);
        hung.push(options?.signal);
        return new Promise(() => undefined);
      },
    } as SqlClient;
  }

  // Optional only to match the base class's signature (which takes none): the reading always names one.
  override async shell(target?: Target): Promise<RemoteShell> {
    if (!target) throw new TypeError('shell: no target');
    if (this.silent.has(target.name)) return new Promise<RemoteShell>(() => undefined);
    const answer = this.shellAnswers.get(target.name);
    if (!answer) throw new Error(`cannot reach ${target.host}:${target.sshPort} (ECONNREFUSED)`);
    const commands = this.commands;
    return {
      host: target.host,
      async exec(command: ShellCommand): Promise<ExecResult> {
        if (!isShellCommand(command)) throw new TypeError('not a ShellCommand');
        commands.push({ target, command: command.text });
        return answer(command.text);
      },
      async close() {},
    };
  }
}
