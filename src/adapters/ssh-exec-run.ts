import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from 'pino';
import type { Client, ClientChannel } from 'ssh2';
import type { ExecOptions, ExecResult } from '../ports/remote-shell';
import { cmd, or, redirect, wrapRemote, type ShellCommand } from '../shell/shell-command';
import { LineSplitter } from './line-splitter';
import { ExecAbortError, ExecTimeoutError, SshSessionError } from './ssh-errors';

export type SshLogger = Pick<Logger, 'debug' | 'info' | 'warn'>;

export type Stop =
  { readonly kind: 'abort'; readonly reason: unknown } | { readonly kind: 'timeout'; readonly ms: number };

/** One exec's abort/timeout state; the current phase (queued, running) installs the listener. */
export class Stopper {
  stop: Stop | undefined;
  private listener: ((s: Stop) => void) | undefined;

  fire(s: Stop): void {
    if (this.stop !== undefined) return;
    this.stop = s;
    this.listener?.(s);
  }

  /** Replaces the listener, calling it at once if already stopped, so no phase misses a stop. */
  onStop(cb: (s: Stop) => void): void {
    this.listener = cb;
    if (this.stop !== undefined) cb(this.stop);
  }
}

/** Keeps the last `cap` characters of a stream, counting what it dropped. */
export class TailBuffer {
  private parts: string[] = [];
  private size = 0;
  dropped = 0;

  constructor(private readonly cap: number) {}

  push(text: string): void {
    this.parts.push(text);
    this.size += text.length;
    // Compact at twice the cap, so a flood of small lines costs linear time.
    if (this.size >= 2 * this.cap) this.compact();
  }

  text(): string {
    if (this.size > this.cap) this.compact();
    return this.parts.join('');
  }

  private compact(): void {
    const all = this.parts.join('');
    const keep = all.slice(-this.cap);
    this.dropped += all.length - keep.length;
    this.parts = [keep];
    this.size = keep.length;
  }
}

export const DEFAULT_BUFFERED_CHARS = 64 * 1024;

export interface ExecContext {
  readonly client: Client;
  readonly target: string;
  readonly killTimeoutMs: number;
  readonly logger: SshLogger | undefined;
  connectionClosed(): boolean;
}

export function stopError(target: string, s: Stop, outcome: string, confirmed: boolean): Error {
  return s.kind === 'timeout'
    ? new ExecTimeoutError(`command on ${target} timed out after ${s.ms} ms${outcome}`, confirmed)
    : new ExecAbortError(`command on ${target} was aborted${outcome}`, confirmed, { cause: s.reason });
}

/**
 * Runs one command on its own channel. The command is wrapped (see wrapRemote) so the remote shell first
 * prints its PID on stderr, tagged with a per-exec nonce and stripped from the output. An SSH server makes
 * each session's shell a session leader (setsid), so that PID is the process group of everything the
 * command starts; on a stop, a second session runs `kill -s KILL -- -PGID`, and only then does the
 * promise reject. If the connection dies instead, the wrapper's watchdog kills the group on the host.
 * Each stream keeps only its tail in memory, and callback lines are cut at MAX_LINE.
 */
export function runSshExec(
  ctx: ExecContext,
  command: ShellCommand,
  options: ExecOptions,
  stopper: Stopper,
): Promise<ExecResult> {
  const { target, logger } = ctx;
  const startedAt = performance.now();
  const nonce = randomBytes(8).toString('hex');
  const marker = `kbops-pgid-${nonce}:`;
  const cap = options.maxBufferedChars ?? DEFAULT_BUFFERED_CHARS;
  return new Promise<ExecResult>((resolve, reject) => {
    let channel: ClientChannel | undefined;
    let pgid: number | undefined;
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let gone = false; // the remote process is known to have ended, or never started
    let pending = 3; // channel close, stdout end, stderr end
    let settled = false;
    let wakeKiller: (() => void) | undefined;
    const stdout = new TailBuffer(cap);
    const stderr = new TailBuffer(cap);
    const decoder = new StringDecoder('utf8');

    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      fn();
    };
    const safely = (cb: ((line: string) => void) | undefined, line: string): void => {
      try {
        cb?.(line);
      } catch (err) {
        logger?.warn({ target, err }, 'output line callback threw; continuing');
      }
    };
    // stdout is kept as it came (a file read through base64 is one long line); stderr by lines,
    // since the PID report must be cut out of it.
    const out = options.onStdoutLine
      ? new LineSplitter((line) => safely(options.onStdoutLine, line))
      : undefined;
    const err = new LineSplitter((line, nl, cut) => {
      const m =
        pgid === undefined && line.startsWith(marker) ? /^\d{1,10}$/.exec(line.slice(marker.length)) : null;
      // PGID 0 or 1 would make `kill -- -N` hit far more than this command.
      if (m === null || Number(m[0]) <= 1) {
        stderr.push(cut ? `${line} [line cut at ${line.length} characters]\n` : line + nl);
        safely(options.onStderrLine, line);
        return;
      }
      pgid = Number(m[0]);
      try {
        options.onStarted?.({ pgid, nonce });
      } catch (e) {
        logger?.warn({ target, err: e }, 'onStarted callback threw; continuing');
      }
      wakeKiller?.();
      // The killer gave up waiting for this PID; kill late rather than leave the command running.
      if (settled && stopper.stop !== undefined) void killGroup(ctx, pgid).then(() => channel?.close());
    });

    const finish = (): void => {
      if (--pending > 0) return;
      wakeKiller?.();
      if (stopper.stop !== undefined) return; // the killer settles
      if (!gone && ctx.connectionClosed()) {
        settle(() => reject(new SshSessionError(`SSH connection to ${target} was lost while a command ran`)));
        return;
      }
      const durationMs = performance.now() - startedAt;
      const result: ExecResult = {
        exitCode,
        signal: exitSignal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        durationMs,
        ...((stdout.dropped > 0 || stderr.dropped > 0) && {
          truncated: { stdout: stdout.dropped, stderr: stderr.dropped },
        }),
      };
      settle(() => resolve(result));
    };

    const kill = async (s: Stop): Promise<void> => {
      if (settled) return;
      // The PID line may not have arrived yet: wait for it, for the channel to close, or give up.
      if (pgid === undefined && pending > 0) {
        await new Promise<void>((wake) => {
          const t = setTimeout(wake, ctx.killTimeoutMs);
          wakeKiller = () => {
            clearTimeout(t);
            wake();
          };
        });
      }
      // Kill even if the shell already exited: background children it left share the group.
      const killed = pgid !== undefined && (await killGroup(ctx, pgid));
      channel?.close();
      const confirmed = killed || (gone && pending === 0);
      logger?.warn({ target, pgid, stop: s.kind, confirmed }, 'SSH exec stopped');
      const group = pgid === undefined ? 'its PID never arrived' : `process group ${pgid}`;
      const outcome = confirmed
        ? `; remote ${group} killed`
        : `; could not confirm the remote kill (${group})`;
      settle(() => reject(stopError(target, s, outcome, confirmed)));
    };

    const failToStart = (e: unknown, what: string): void => {
      gone = true;
      pending = 0;
      if (stopper.stop === undefined) {
        settle(() => reject(new SshSessionError(`${what} on ${target}: ${String(e)}`, { cause: e })));
      }
      wakeKiller?.();
    };

    stopper.onStop((s) => void kill(s));
    try {
      ctx.client.exec(wrapRemote(marker, nonce, command).text, (openErr, ch) => {
        if (openErr) return failToStart(openErr, 'cannot open an SSH session');
        channel = ch;
        ch.on('data', (chunk: Buffer) => {
          stdout.push(decoder.write(chunk));
          out?.push(chunk);
        });
        ch.stderr.on('data', (chunk: Buffer) => err.push(chunk));
        ch.on('end', () => {
          stdout.push(decoder.end());
          out?.end();
          finish();
        });
        ch.stderr.on('end', () => {
          err.end();
          finish();
        });
        ch.on('exit', (code: number | null, sig?: string) => {
          gone = true;
          exitCode = code ?? null;
          exitSignal = sig ?? null;
        });
        ch.on('close', finish);
        ch.on('error', (e: Error) => logger?.warn({ target, err: e }, 'SSH channel error'));
        if (options.stdin !== undefined) ch.end(options.stdin);
        else ch.end();
      });
    } catch (e) {
      failToStart(e, 'cannot run a command');
    }
  });
}

/** Kills the group over a fresh session; falls back to the PID alone if the server did not setsid(). */
function killGroup(ctx: ExecContext, pgid: number): Promise<boolean> {
  const killCmd = or(
    redirect(cmd('kill', '-s', 'KILL', '--', `-${pgid}`), { stderr: '/dev/null' }),
    cmd('kill', '-s', 'KILL', '--', String(pgid)),
  );
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), ctx.killTimeoutMs);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      resolve(ok);
    };
    try {
      ctx.client.exec(killCmd.text, (e, ch) => {
        if (e) return done(false);
        let code: number | null = null;
        ch.resume();
        ch.stderr.resume();
        ch.on('exit', (c: number | null) => (code = c));
        ch.on('close', () => done(code === 0));
        ch.end();
      });
    } catch {
      done(false);
    }
  });
}
