// What every `kbops` command writes to and how it ends: one list of exit codes for the whole CLI.

export const EXIT = {
  ok: 0,
  failed: 1, // the run failed (rolled back unless --no-rollback)
  config: 2,
  preflight: 3,
  rollbackFailed: 4,
  locked: 5,
  cancelled: 130,
  usage: 64,
} as const;

/**
 * `kbops report`'s own codes follow Nagios (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN): a monitoring
 * check reads them, so "could not report at all" (configuration problems included) is 3, never 2.
 */
export const REPORT_UNKNOWN = 3;

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly tty: boolean;
  /** Raw output without a newline (a progress bar redrawn in place). */
  readonly write?: (text: string) => void;
  /** Resolves when the user interrupts (Ctrl-C); the run is then cancelled. */
  readonly interrupted?: Promise<void>;
}
