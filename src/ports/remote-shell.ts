import type { ShellCommand } from '../shell/shell-command';

/** How one remote command ended. A non-zero exit is a result, not an exception. */
export interface ExecResult {
  /** Exit status, or null when the process died by a signal or the channel closed without one. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
}

export interface ExecOptions {
  /** Aborting kills the remote process (not just the local wait) and rejects with an AbortError. */
  readonly signal?: AbortSignal;
  /** Kills the remote process after this long and rejects with a TimeoutError. */
  readonly timeoutMs?: number;
  /** Written to the remote process's stdin, then stdin is closed. The way to pass secrets. */
  readonly stdin?: string | Buffer;
  /** Called once per complete output line (SSH chunks split lines; the adapter re-joins them). */
  readonly onStdoutLine?: (line: string) => void;
  readonly onStderrLine?: (line: string) => void;
}

/** A login on one host. Commands are only ever built by the quoting module. */
export interface RemoteShell {
  readonly host: string;
  exec(command: ShellCommand, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}
