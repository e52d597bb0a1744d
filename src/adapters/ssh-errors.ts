import type { HostVerifier } from './host-key-verifier';

export type SshConnectErrorCode =
  'host-key-mismatch' | 'host-key-unknown' | 'auth-failed' | 'unreachable' | 'timeout' | 'protocol';

/** Could not log in. `code` says which way; the message says what to do about it. */
export class SshConnectError extends Error {
  override readonly name = 'SshConnectError';
  constructor(
    readonly code: SshConnectErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The session broke under a running command (connection lost, channel refused): a system fault. */
export class SshSessionError extends Error {
  override readonly name = 'SshSessionError';
}

/** `remoteKillConfirmed` is false when the remote process group could not be shown to be killed. */
export class ExecAbortError extends Error {
  override readonly name = 'AbortError';
  constructor(
    message: string,
    readonly remoteKillConfirmed: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class ExecTimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(
    message: string,
    readonly remoteKillConfirmed: boolean,
  ) {
    super(message);
  }
}

export function classifyConnectError(
  err: unknown,
  verifier: HostVerifier,
  target: string,
  readyMs: number,
): SshConnectError {
  const failure = verifier.lastFailure();
  if (failure !== undefined) {
    const code = failure.code === 'not-pinned' ? 'host-key-unknown' : 'host-key-mismatch';
    return new SshConnectError(code, failure.reason, { cause: err });
  }
  const e = err as { level?: string; code?: string; message?: string };
  const message = e.message ?? String(err);
  if (e.level === 'client-authentication') {
    return new SshConnectError(
      'auth-failed',
      `SSH login ${target} was refused; check that the private key's public half is in that user's ` +
        `~/.ssh/authorized_keys`,
      { cause: err },
    );
  }
  if (/privateKey|passphrase/i.test(message)) {
    return new SshConnectError('auth-failed', `cannot use the SSH private key for ${target}: ${message}`, {
      cause: err,
    });
  }
  if (e.level === 'client-timeout') {
    return new SshConnectError(
      'timeout',
      `no SSH login to ${target} within ${readyMs} ms; check the host is up and the port is not filtered`,
      { cause: err },
    );
  }
  if (e.level === 'client-socket' || e.level === 'client-dns') {
    return new SshConnectError(
      'unreachable',
      `cannot reach ${target} (${e.code ?? message}); check the address and port, and that sshd is running`,
      { cause: err },
    );
  }
  return new SshConnectError('protocol', `SSH handshake with ${target} failed: ${message}`, { cause: err });
}
