import { hostKeyPinsFor } from '../../../src/adapters/connect-node';
import { checkHostKey, fingerprintOf, revocationsOnly } from '../../../src/adapters/host-key-verifier';
import type { ClusterConfig, NodeConfig } from '../../../src/config/normalise-inventory';

// Per-node hostKeys: which pins apply to a connection, and how they combine with known_hosts.

const keyA = Buffer.from('ssh-ed25519 key A, as a blob');
const keyB = Buffer.from('ssh-ed25519 key B, as a blob');
const fpA = fingerprintOf(keyA);
const fpB = fingerprintOf(keyB);

const node = (name: string, host: string, sshPort: number, hostKeys: string[]): NodeConfig =>
  ({ name, host, sshPort, hostKeys }) as unknown as NodeConfig;
const cluster = (...nodes: NodeConfig[]) => ({ nodes }) as unknown as ClusterConfig;

describe('hostKeyPinsFor', () => {
  const c = cluster(
    node('n1', '10.0.0.1', 22, [fpA]),
    node('n2', '10.0.0.2', 22, []),
    node('n3', 'DB3.example', 2222, [fpB]),
  );

  it("takes the pins of the inventory node at the target's host and SSH port", () => {
    expect(hostKeyPinsFor(c, { host: '10.0.0.1', sshPort: 22 })).toEqual([fpA]);
    expect(hostKeyPinsFor(c, { host: 'db3.example', sshPort: 2222 })).toEqual([fpB]);
  });

  it('has none for another port, an unpinned node or a host not in the inventory (the node being added)', () => {
    expect(hostKeyPinsFor(c, { host: '10.0.0.1', sshPort: 2222 })).toEqual([]);
    expect(hostKeyPinsFor(c, { host: '10.0.0.2', sshPort: 22 })).toEqual([]);
    expect(hostKeyPinsFor(c, { host: '10.0.0.9', sshPort: 22 })).toEqual([]);
  });

  it("adds the target's own pins, once each", () => {
    expect(hostKeyPinsFor(c, { host: '10.0.0.1', sshPort: 22, hostKeys: [fpB, fpA] })).toEqual([fpB, fpA]);
  });
});

describe('revocationsOnly', () => {
  const knownHosts = [
    '# comment',
    `10.0.0.1 ssh-ed25519 ${keyB.toString('base64')}`,
    `@revoked * ssh-ed25519 ${keyA.toString('base64')}`,
    '',
  ].join('\n');

  it('keeps the @revoked lines only', () => {
    expect(revocationsOnly(knownHosts)).toBe(`@revoked * ssh-ed25519 ${keyA.toString('base64')}\n`);
  });

  it('so a pinned host is not widened by known_hosts, while a revocation still applies', () => {
    const pins = { host: '10.0.0.1', port: 22, fingerprints: [fpA] };
    // With the whole file, known_hosts would add key B to the pins of 10.0.0.1:
    expect(checkHostKey({ ...pins, fingerprints: [`SHA256:${'A'.repeat(43)}`], knownHosts }, keyB).ok).toBe(
      true,
    );
    expect(checkHostKey({ ...pins, knownHosts: revocationsOnly(knownHosts) }, keyB)).toMatchObject({
      ok: false,
      code: 'mismatch',
    });
    expect(checkHostKey({ ...pins, knownHosts: revocationsOnly(knownHosts) }, keyA)).toMatchObject({
      ok: false,
      code: 'revoked',
    });
  });
});
