import type { ShellCommand } from '../shell/shell-command';

/** How one remote command ended. A non-zero exit is a result, not an exception. */
export interface ExecResult {
  /** Exit status, or null when the process died by a signal or the channel closed without one. */
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  /** Characters dropped from the head of a stream over its buffer cap (the tail is what was kept). */
  readonly truncated?: { readonly stdout: number; readonly stderr: number };
}

/** The remote process group of one exec, and the nonce in its environment that proves it is ours. */
export interface RemoteStart {
  readonly pgid: number;
  readonly nonce: string;
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
  /** Called once, as soon as the remote process group is known (so it can be journaled and reaped later). */
  readonly onStarted?: (info: RemoteStart) => void;
  /** How much of each stream the result keeps (its tail); default 64 KiB. Callback lines are cut at 8 KiB. */
  readonly maxBufferedChars?: number;
}

/** A login on one host. Commands are only ever built by the quoting module. */
export interface RemoteShell {
  readonly host: string;
  exec(command: ShellCommand, options?: ExecOptions): Promise<ExecResult>;
  close(): Promise<void>;
}
