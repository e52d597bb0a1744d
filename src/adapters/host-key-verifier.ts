import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Host-key pinning for ssh2's `hostVerifier`. A host is trusted only if its key is pinned, by an OpenSSH
 * fingerprint or a known_hosts line; there is no trust-on-first-use.
 */

/** `SHA256:` + unpadded base64 of a SHA-256 digest, as `ssh-keygen -lf` prints it. */
export const FINGERPRINT_PATTERN = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

export type HostKeyCheck =
  | { readonly ok: true; readonly fingerprint: string }
  | {
      readonly ok: false;
      readonly code: 'not-pinned' | 'mismatch' | 'revoked';
      readonly fingerprint: string;
      readonly reason: string;
    };

export interface HostKeyPins {
  readonly host: string;
  readonly port: number;
  /** OpenSSH SHA256 fingerprints pinned for this host. */
  readonly fingerprints?: readonly string[];
  /** known_hosts file content (not a path). */
  readonly knownHosts?: string;
}

export interface KnownHostsEntry {
  readonly marker: 'revoked' | 'cert-authority' | undefined;
  /** Comma-separated patterns, or one `|1|salt|hash` hashed host. */
  readonly hosts: string;
  readonly keyType: string;
  readonly key: Buffer;
}

export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The name known_hosts uses for a host: bare for port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** Parses known_hosts text; comments, blank and malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [hosts, keyType, keyBase64] = fields;
    if (hosts === undefined || keyType === undefined || keyBase64 === undefined) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyBase64)) continue;
    entries.push({ marker, hosts, keyType, key: Buffer.from(keyBase64, 'base64') });
  }
  return entries;
}

/**
 * Only the `@revoked` lines of known_hosts text: for a host pinned by its own fingerprints, so a
 * broader known_hosts line cannot widen what its pins accept, while a revocation still applies.
 */
export function revocationsOnly(knownHosts: string): string {
  return knownHosts
    .split(/\r?\n/)
    .filter((line) => line.trim().startsWith('@revoked'))
    .map((line) => `${line}\n`)
    .join('');
}

/** Whether a known_hosts host field names this host (plain patterns with `*`, `?`, `!`, or hashed). */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) return hashedMatches(field, name);
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    if (!patternToRegExp(negated ? pattern.slice(1) : pattern).test(name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

function hashedMatches(field: string, name: string): boolean {
  const [, , salt, hash] = field.split('|');
  if (salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function patternToRegExp(pattern: string): RegExp {
  const body = [...pattern.toLowerCase()]
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}

function normaliseFingerprint(fp: string): string {
  const trimmed = fp.trim();
  if (!FINGERPRINT_PATTERN.test(trimmed)) {
    throw new TypeError(
      `not an OpenSSH SHA256 fingerprint: ${JSON.stringify(fp)} (expected SHA256:<43 chars>)`,
    );
  }
  return trimmed.replace(/=$/, '');
}

/**
 * Decides whether `key` may be trusted for `host:port`. A key marked `@revoked` anywhere is refused, even
 * under another host's pattern (stricter than OpenSSH, never weaker). `@cert-authority` lines are ignored:
 * host certificates are not supported.
 */
export function checkHostKey(pins: HostKeyPins, key: Buffer): HostKeyCheck {
  const fingerprint = fingerprintOf(key);
  const target = `${pins.host}:${pins.port}`;
  const name = knownHostsName(pins.host, pins.port);
  const entries = pins.knownHosts === undefined ? [] : parseKnownHosts(pins.knownHosts);

  if (entries.some((e) => e.marker === 'revoked' && e.key.equals(key))) {
    return {
      ok: false,
      code: 'revoked',
      fingerprint,
      reason: `host key for ${target} is ${fingerprint}, which known_hosts marks @revoked; refusing to connect`,
    };
  }

  const pinned = new Set((pins.fingerprints ?? []).map(normaliseFingerprint));
  for (const e of entries) {
    if (e.marker === undefined && hostFieldMatches(e.hosts, name)) pinned.add(fingerprintOf(e.key));
  }

  if (pinned.size === 0) {
    return {
      ok: false,
      code: 'not-pinned',
      fingerprint,
      reason:
        `no host key is pinned for ${target} (it presented ${fingerprint}); check that fingerprint on the host ` +
        `(ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it to the inventory or known_hosts`,
    };
  }
  if (pinned.has(fingerprint)) return { ok: true, fingerprint };
  return {
    ok: false,
    code: 'mismatch',
    fingerprint,
    reason:
      `host key for ${target} is ${fingerprint}, pinned ${[...pinned].join(', ')}; ` +
      `if the host was rebuilt, verify the new key and update known_hosts; otherwise suspect interception`,
  };
}

export interface HostVerifier {
  /** For ssh2's synchronous `hostVerifier` (raw key blob in, permit out). */
  verify(key: Buffer): boolean;
  /** Why the last `verify` refused, if it did. */
  lastFailure(): Extract<HostKeyCheck, { ok: false }> | undefined;
  /** Fingerprint of the last key seen, accepted or not. */
  lastFingerprint(): string | undefined;
}

export function makeHostVerifier(pins: HostKeyPins): HostVerifier {
  // Validate fingerprints now, so bad config fails before any connection is attempted.
  (pins.fingerprints ?? []).forEach(normaliseFingerprint);
  let last: HostKeyCheck | undefined;
  return {
    verify(key) {
      last = checkHostKey(pins, key);
      return last.ok;
    },
    lastFailure: () => (last !== undefined && !last.ok ? last : undefined),
    lastFingerprint: () => last?.fingerprint,
  };
}
