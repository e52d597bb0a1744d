import type { Json } from '../core/json';

// Probes are data: SQL text + bound parameters, or an argv. The runbook runs them through its ports
// (SqlClient, RemoteShell) and hands what came back to the matching pure parser here.

/** A query to run on one node; the shape of core/plan's `sql` Probe, so it can go into a plan as is. */
export interface SqlProbe {
  readonly kind: 'sql';
  readonly sql: string;
  readonly params: readonly Json[];
}

/** A command to run on one host; the executor quotes every word (src/shell), no shell text here. */
export interface ArgvProbe {
  readonly kind: 'ssh';
  readonly argv: readonly string[];
}

/** What a command printed and how it ended (an ExecResult or a plan's `ssh` Observation). */
export interface CommandOutput {
  readonly exitCode: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One result row as a SqlClient returns it (typed values) or parsePsqlTable does (all text). */
export type Row = Readonly<Record<string, unknown>>;

/** A parse either gives a value or says, for a human, why it could not. Parsers never throw. */
export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export const parsed = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const failed = (reason: string): { readonly ok: false; readonly reason: string } => ({
  ok: false,
  reason,
});

export const sqlProbe = (sql: string, params: readonly Json[] = []): SqlProbe => ({
  kind: 'sql',
  sql,
  params,
});
export const argvProbe = (...argv: string[]): ArgvProbe => ({ kind: 'ssh', argv });
