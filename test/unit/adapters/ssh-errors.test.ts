import { makeHostVerifier } from '../../../src/adapters/host-key-verifier';
import { classifyConnectError, SshConnectError } from '../../../src/adapters/ssh-errors';

const target = 'root@127.0.0.12:22';
const fresh = () => makeHostVerifier({ host: '127.0.0.12', port: 22 });
const ssh2Error = (message: string, extra: Record<string, unknown>) =>
  Object.assign(new Error(message), extra);

describe('classifyConnectError', () => {
  it.each([
    [
      ssh2Error('All configured authentication methods failed', { level: 'client-authentication' }),
      'auth-failed',
    ],
    [
      new Error('Cannot parse privateKey: Encrypted private OpenSSH key detected, but no passphrase given'),
      'auth-failed',
    ],
    [ssh2Error('Timed out while waiting for handshake', { level: 'client-timeout' }), 'timeout'],
    [
      ssh2Error('connect ECONNREFUSED 127.0.0.12:22', { level: 'client-socket', code: 'ECONNREFUSED' }),
      'unreachable',
    ],
    [ssh2Error('getaddrinfo ENOTFOUND db9', { level: 'client-dns', code: 'ENOTFOUND' }), 'unreachable'],
    [ssh2Error('Handshake failed: no matching key exchange algorithm', { level: 'handshake' }), 'protocol'],
  ])('maps %s to %s', (err, code) => {
    const e = classifyConnectError(err, fresh(), target, 20_000);
    expect(e).toBeInstanceOf(SshConnectError);
    expect(e.code).toBe(code);
    expect(e.message).toContain(target);
    expect(e.cause).toBe(err);
  });

  it('prefers the host-key verdict over the generic handshake error', () => {
    const v = fresh();
    v.verify(Buffer.from('some key'));
    const e = classifyConnectError(
      ssh2Error('Host denied (verification failed)', { level: 'handshake' }),
      v,
      target,
      1,
    );
    expect(e.code).toBe('host-key-unknown');
    expect(e.message).toMatch(/no host key is pinned for 127\.0\.0\.12:22/);
  });

  it('names what to do in the message', () => {
    const timeout = classifyConnectError(ssh2Error('t', { level: 'client-timeout' }), fresh(), target, 5000);
    expect(timeout.message).toMatch(/within 5000 ms; check the host is up/);
    const auth = classifyConnectError(ssh2Error('a', { level: 'client-authentication' }), fresh(), target, 1);
    expect(auth.message).toMatch(/authorized_keys/);
  });
});
