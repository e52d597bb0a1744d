import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkHostKey,
  fingerprintOf,
  hostFieldMatches,
  knownHostsName,
  makeHostVerifier,
  parseKnownHosts,
} from '../../../src/adapters/host-key-verifier';

interface GeneratedKey {
  /** The `type base64` part of the .pub line. */
  readonly pubLine: string;
  readonly blob: Buffer;
  /** As printed by `ssh-keygen -lf`. */
  readonly fingerprint: string;
}

let dir: string;
let keyA: GeneratedKey;
let keyB: GeneratedKey;
let keyRsa: GeneratedKey;

function generate(name: string, type: string): GeneratedKey {
  const path = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', path]);
  const [keyType, b64] = readFileSync(`${path}.pub`, 'utf8').trim().split(/\s+/);
  const printed = execFileSync('ssh-keygen', ['-lf', `${path}.pub`], { encoding: 'utf8' });
  const fingerprint = /(SHA256:\S+)/.exec(printed)?.[1];
  if (keyType === undefined || b64 === undefined || fingerprint === undefined)
    throw new Error('ssh-keygen output');
  return { pubLine: `${keyType} ${b64}`, blob: Buffer.from(b64, 'base64'), fingerprint };
}

/** Hashes a known_hosts text with the real `ssh-keygen -H`. */
function hashed(text: string): string {
  const path = join(dir, `kh-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, text);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', path], { stdio: 'ignore' });
  return readFileSync(path, 'utf8');
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbops-hostkey-'));
  keyA = generate('a', 'ed25519');
  keyB = generate('b', 'ed25519');
  keyRsa = generate('r', 'rsa');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('fingerprintOf', () => {
  it('matches ssh-keygen -lf for ed25519 and rsa keys', () => {
    expect(fingerprintOf(keyA.blob)).toBe(keyA.fingerprint);
    expect(fingerprintOf(keyRsa.blob)).toBe(keyRsa.fingerprint);
    expect(keyA.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('knownHostsName', () => {
  it('is bare for port 22 and bracketed otherwise, lower-cased', () => {
    expect(knownHostsName('DB1.Example', 22)).toBe('db1.example');
    expect(knownHostsName('127.0.0.12', 2222)).toBe('[127.0.0.12]:2222');
  });
});

describe('pinned fingerprints', () => {
  const pins = (fingerprints: string[]) => ({ host: '127.0.0.12', port: 22, fingerprints });

  it('accepts the pinned key', () => {
    expect(checkHostKey(pins([keyA.fingerprint]), keyA.blob)).toEqual({
      ok: true,
      fingerprint: keyA.fingerprint,
    });
  });

  it('accepts a pin with base64 padding or surrounding spaces', () => {
    expect(checkHostKey(pins([` ${keyA.fingerprint}= `]), keyA.blob).ok).toBe(true);
  });

  it('refuses another key with a reason naming both fingerprints and what to do', () => {
    const r = checkHostKey(pins([keyA.fingerprint]), keyB.blob);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('mismatch');
    expect(r.reason).toContain(`host key for 127.0.0.12:22 is ${keyB.fingerprint}`);
    expect(r.reason).toContain(`pinned ${keyA.fingerprint}`);
    expect(r.reason).toMatch(/update known_hosts/);
  });

  it('refuses when nothing is pinned (no trust on first use)', () => {
    const r = checkHostKey({ host: '127.0.0.12', port: 22 }, keyA.blob);
    expect(r).toMatchObject({ ok: false, code: 'not-pinned', fingerprint: keyA.fingerprint });
    if (!r.ok) expect(r.reason).toContain(keyA.fingerprint);
  });

  it('throws on a malformed fingerprint at construction time', () => {
    expect(() => makeHostVerifier(pins(['MD5:aa:bb']))).toThrow(/not an OpenSSH SHA256 fingerprint/);
    expect(() => makeHostVerifier(pins(['SHA256:short']))).toThrow(TypeError);
  });
});

describe('known_hosts', () => {
  const check = (knownHosts: string, key: Buffer, host = '127.0.0.12', port = 22) =>
    checkHostKey({ host, port, knownHosts }, key);

  it('accepts a plain entry among comma-separated patterns, comments and blanks', () => {
    const kh = `# comment\n\n10.0.0.1 ${keyB.pubLine}\ndb1,127.0.0.12 ${keyA.pubLine} root@db1\n`;
    expect(check(kh, keyA.blob).ok).toBe(true);
    expect(check(kh, keyA.blob, 'DB1').ok).toBe(true);
  });

  it('refuses a wrong key for a listed host', () => {
    const r = check(`127.0.0.12 ${keyA.pubLine}\n`, keyB.blob);
    expect(r).toMatchObject({ ok: false, code: 'mismatch' });
  });

  it('refuses a host that is not listed, even if its key is listed for another host', () => {
    const r = check(`10.0.0.1 ${keyA.pubLine}\n`, keyA.blob);
    expect(r).toMatchObject({ ok: false, code: 'not-pinned' });
  });

  it('uses [host]:port for non-22 ports and the bare name only for 22', () => {
    const kh = `[127.0.0.12]:2222 ${keyA.pubLine}\n127.0.0.12 ${keyB.pubLine}\n`;
    expect(check(kh, keyA.blob, '127.0.0.12', 2222).ok).toBe(true);
    expect(check(kh, keyB.blob, '127.0.0.12', 2222).ok).toBe(false);
    expect(check(kh, keyB.blob, '127.0.0.12', 22).ok).toBe(true);
    expect(check(kh, keyA.blob, '127.0.0.12', 22).ok).toBe(false);
  });

  it('matches hashed entries produced by ssh-keygen -H, for port 22 and other ports', () => {
    const kh = hashed(`127.0.0.12 ${keyA.pubLine}\n[127.0.0.13]:2222 ${keyB.pubLine}\n`);
    expect(kh).toMatch(/^\|1\|/);
    expect(kh).not.toContain('127.0.0.12');
    expect(check(kh, keyA.blob, '127.0.0.12', 22).ok).toBe(true);
    expect(check(kh, keyB.blob, '127.0.0.13', 2222).ok).toBe(true);
    expect(check(kh, keyB.blob, '127.0.0.12', 22)).toMatchObject({ ok: false, code: 'mismatch' });
    expect(check(kh, keyA.blob, '127.0.0.14', 22)).toMatchObject({ ok: false, code: 'not-pinned' });
    expect(check(kh, keyB.blob, '127.0.0.13', 22)).toMatchObject({ ok: false, code: 'not-pinned' });
  });

  it('refuses a @revoked key even when it is also listed as valid', () => {
    const kh = `127.0.0.12 ${keyA.pubLine}\n@revoked * ${keyA.pubLine}\n`;
    const r = check(kh, keyA.blob);
    expect(r).toMatchObject({ ok: false, code: 'revoked' });
    if (!r.ok) expect(r.reason).toMatch(/@revoked/);
  });

  it('ignores @cert-authority lines and unknown markers', () => {
    const kh = `@cert-authority 127.0.0.12 ${keyA.pubLine}\n@bogus 127.0.0.12 ${keyA.pubLine}\n`;
    expect(check(kh, keyA.blob)).toMatchObject({ ok: false, code: 'not-pinned' });
    expect(parseKnownHosts(kh)).toHaveLength(1);
  });

  it('skips malformed lines and tolerates CRLF', () => {
    const kh = `garbage\n127.0.0.12 ssh-ed25519\n127.0.0.12 ssh-ed25519 !!!notbase64\r\n127.0.0.12 ${keyA.pubLine}\r\n`;
    expect(parseKnownHosts(kh)).toHaveLength(1);
    expect(check(kh, keyA.blob).ok).toBe(true);
  });

  it('supports wildcards and negation in patterns', () => {
    expect(hostFieldMatches('db*.example,!db9.example', 'db1.example')).toBe(true);
    expect(hostFieldMatches('db*.example,!db9.example', 'db9.example')).toBe(false);
    expect(hostFieldMatches('127.0.0.?', '127.0.0.5')).toBe(true);
    expect(hostFieldMatches('127.0.0.?', '127.0.0.15')).toBe(false);
    // Dots are literal, not regex wildcards.
    expect(hostFieldMatches('127.0.0.1', '127x0x0x1')).toBe(false);
    expect(hostFieldMatches('[127.0.0.1]:2222', '[127.0.0.1]:2222')).toBe(true);
  });

  it('combines known_hosts with pinned fingerprints', () => {
    const r = checkHostKey(
      {
        host: '127.0.0.12',
        port: 22,
        knownHosts: `127.0.0.12 ${keyA.pubLine}\n`,
        fingerprints: [keyB.fingerprint],
      },
      keyB.blob,
    );
    expect(r.ok).toBe(true);
  });
});

describe('makeHostVerifier', () => {
  it('returns booleans for ssh2 and remembers why it refused', () => {
    const v = makeHostVerifier({ host: '127.0.0.12', port: 22, fingerprints: [keyA.fingerprint] });
    expect(v.verify(keyB.blob)).toBe(false);
    expect(v.lastFailure()).toMatchObject({ code: 'mismatch', fingerprint: keyB.fingerprint });
    expect(v.lastFingerprint()).toBe(keyB.fingerprint);
    expect(v.verify(keyA.blob)).toBe(true);
    expect(v.lastFailure()).toBeUndefined();
  });
});
