import { Client } from 'ssh2';
import type { ExecOptions, ExecResult, RemoteShell } from '../ports/remote-shell';
import { isShellCommand, toDisplay, type ShellCommand } from '../shell/shell-command';
import { makeHostVerifier } from './host-key-verifier';
import { runSshExec, stopError, Stopper, type ExecContext, type SshLogger } from './ssh-exec-run';
import { classifyConnectError, SshSessionError } from './ssh-errors';

export type { SshLogger } from './ssh-exec-run';
export {
  ExecAbortError,
  ExecTimeoutError,
  SshConnectError,
  SshSessionError,
  type SshConnectErrorCode,
} from './ssh-errors';

export interface SshConnectOptions {
  readonly host: string;
  readonly port?: number;
  readonly username: string;
  readonly privateKey: Buffer | string;
  readonly passphrase?: string;
  /** Pinned OpenSSH SHA256 fingerprints; with `knownHosts`, at least one pin must exist for the host. */
  readonly fingerprints?: readonly string[];
  /** known_hosts file content. */
  readonly knownHosts?: string;
  readonly readyTimeoutMs?: number;
  readonly keepaliveIntervalMs?: number;
  /** Below OpenSSH's MaxSessions (10) so the kill session an abort needs can still be opened. */
  readonly maxConcurrentExecs?: number;
  /** How long an abort waits for the remote PID and for the kill to finish. */
  readonly killTimeoutMs?: number;
  readonly logger?: SshLogger;
  /** Aborting stops a login in progress at once (its socket destroyed), e.g. a host that never answers. */
  readonly signal?: AbortSignal;
}

/**
 * RemoteShell over one ssh2 connection, one channel per exec (see runSshExec for how a stop kills the
 * remote process group). Concurrent execs are queued beyond `maxConcurrentExecs`.
 */
export class SshRemoteShell implements RemoteShell {
  private connectionClosed = false;
  private readonly closeListeners: Array<() => void> = [];
  private readonly context: ExecContext;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  private constructor(
    private readonly client: Client,
    readonly host: string,
    private readonly target: string,
    private readonly options: Required<Pick<SshConnectOptions, 'maxConcurrentExecs' | 'killTimeoutMs'>>,
    private readonly logger: SshLogger | undefined,
  ) {
    this.context = {
      client,
      target,
      killTimeoutMs: options.killTimeoutMs,
      logger,
      connectionClosed: () => this.connectionClosed,
    };
    client.on('close', () => {
      this.connectionClosed = true;
      for (const cb of this.closeListeners.splice(0)) cb();
    });
    client.on('error', (err) => logger?.warn({ target, err }, 'SSH connection error'));
  }

  static connect(o: SshConnectOptions): Promise<SshRemoteShell> {
    const port = o.port ?? 22;
    const target = `${o.username}@${o.host}:${port}`;
    const verifier = makeHostVerifier({
      host: o.host,
      port,
      fingerprints: o.fingerprints,
      knownHosts: o.knownHosts,
    });
    const readyTimeout = o.readyTimeoutMs ?? 20_000;
    const client = new Client();
    const { signal } = o;
    return new Promise<SshRemoteShell>((resolve, reject) => {
      const onAbort = (): void => {
        const why = signal?.reason instanceof Error ? signal.reason.message : String(signal?.reason);
        stop(Object.assign(new Error(`SSH login ${target} stopped: ${why}`), { name: 'AbortError' }));
      };
      const stop = (err: Error): void => {
        signal?.removeEventListener('abort', onAbort);
        client.removeAllListeners('ready');
        client.removeListener('error', fail);
        client.on('error', () => {}); // late errors from the dying socket must not crash the process
        client.destroy();
        reject(err);
      };
      const fail = (err: unknown): void => stop(classifyConnectError(err, verifier, target, readyTimeout));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      client.once('ready', () => {
        signal?.removeEventListener('abort', onAbort);
        client.removeListener('error', fail);
        o.logger?.info({ target, hostKey: verifier.lastFingerprint() }, 'SSH connected');
        const limits = {
          maxConcurrentExecs: o.maxConcurrentExecs ?? 8,
          killTimeoutMs: o.killTimeoutMs ?? 10_000,
        };
        resolve(new SshRemoteShell(client, o.host, target, limits, o.logger));
      });
      client.once('error', fail);
      try {
        client.connect({
          host: o.host,
          port,
          username: o.username,
          privateKey: o.privateKey,
          passphrase: o.passphrase,
          readyTimeout,
          keepaliveInterval: o.keepaliveIntervalMs ?? 15_000,
          keepaliveCountMax: 3,
          hostVerifier: (key: Buffer): boolean => verifier.verify(key),
        });
      } catch (err) {
        fail(err);
      }
    });
  }

  async exec(command: ShellCommand, options: ExecOptions = {}): Promise<ExecResult> {
    if (!isShellCommand(command)) throw new TypeError('exec: command must be built by shell-command');
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined && !(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
      throw new TypeError(`exec: timeoutMs must be a positive number, got ${timeoutMs}`);
    }
    if (this.connectionClosed) throw new SshSessionError(`SSH connection to ${this.target} is closed`);
    const stopper = new Stopper();
    const onAbort = (): void => stopper.fire({ kind: 'abort', reason: signal?.reason });
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => stopper.fire({ kind: 'timeout', ms: timeoutMs }), timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      await this.acquireSlot(stopper);
      try {
        if (stopper.stop !== undefined)
          throw stopError(this.target, stopper.stop, ' before it started', true);
        this.logger?.debug(
          { target: this.target, command: toDisplay(command), stdinBytes: options.stdin?.length ?? 0 },
          'SSH exec',
        );
        const result = await runSshExec(this.context, command, options, stopper);
        this.logger?.debug(
          { target: this.target, exitCode: result.exitCode, signal: result.signal },
          'SSH exec done',
        );
        return result;
      } finally {
        this.releaseSlot();
      }
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** True once the connection has closed or failed; a closed shell never runs anything again. */
  get closed(): boolean {
    return this.connectionClosed;
  }

  /** Calls `cb` once when the connection closes (at once if it already has), e.g. to drop it from a cache. */
  onClosed(cb: () => void): void {
    if (this.connectionClosed) cb();
    else this.closeListeners.push(cb);
  }

  async close(): Promise<void> {
    if (this.connectionClosed) return;
    await new Promise<void>((resolve) => {
      this.client.once('close', () => resolve());
      this.client.end();
    });
  }

  /** Resolves holding a slot, also when stopped while queued (the caller then releases it). */
  private acquireSlot(stopper: Stopper): Promise<void> {
    return new Promise<void>((resolve) => {
      const grant = (): void => {
        this.running++;
        resolve();
      };
      if (stopper.stop !== undefined || this.running < this.options.maxConcurrentExecs) return grant();
      this.waiting.push(grant);
      stopper.onStop(() => {
        const i = this.waiting.indexOf(grant);
        if (i === -1) return;
        this.waiting.splice(i, 1);
        grant();
      });
    });
  }

  private releaseSlot(): void {
    this.running--;
    this.waiting.shift()?.();
  }
}
