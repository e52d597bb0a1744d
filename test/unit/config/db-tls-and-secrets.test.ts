import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { formatProblems, parseInventory } from '../../../src/config/load-inventory';

// db.tls (sslmode and CA file) and the secrets the loader refuses: every problem with its path.

const EXAMPLE = join(__dirname, '../../../src/config/example-inventory.yaml');
type Doc = { clusters: Record<string, Record<string, any>> }; // eslint-disable-line @typescript-eslint/no-explicit-any

let dir: string;
let caFile: string;
const env = { KBOPS_ESHA_DB_PASSWORD: 'not-the-real-one', SHORT_PW: 'abc' };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kbops-tls-config-'));
  writeFileSync(join(dir, 'id'), 'k\n', { mode: 0o600 });
  writeFileSync(join(dir, 'known_hosts'), '192.168.4.127 ssh-ed25519 AAAA\n');
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function example(tls?: Record<string, unknown>): Doc {
  const doc = parse(readFileSync(EXAMPLE, 'utf8')) as Doc;
  const c = doc.clusters.ESHA!;
  c.ssh.privateKeyFile = join(dir, 'id');
  c.ssh.knownHostsFile = join(dir, 'known_hosts');
  if (tls) c.db.tls = tls;
  return doc;
}

async function load(doc: Doc, e: Record<string, string> = env) {
  return parseInventory(stringify(doc), 'test', { env: e });
}

describe('db.tls', () => {
  it('defaults to prefer, without a CA', async () => {
    const r = await load(example());
    if (!r.ok) throw new Error(formatProblems(r.problems));
    expect(r.inventory.clusters.ESHA!.db.tls).toEqual({ mode: 'prefer' });
  });

  it('keeps verify-full with a readable CA file', async () => {
    const r = await load(example({ mode: 'verify-full', caFile }));
    if (!r.ok) throw new Error(formatProblems(r.problems));
    expect(r.inventory.clusters.ESHA!.db.tls).toEqual({ mode: 'verify-full', caFile });
  });

  it.each([
    [{ mode: 'verify-ca' }, 'clusters.ESHA.db.tls.caFile', 'give the CA that signed it in caFile'],
    [{ mode: 'verify-full' }, 'clusters.ESHA.db.tls.caFile', 'give the CA that signed it in caFile'],
    [{ mode: 'disable', caFile: '/etc/ca.pem' }, 'clusters.ESHA.db.tls.caFile', 'caFile would be ignored'],
    [{ mode: 'allow' }, 'clusters.ESHA.db.tls.mode', 'unknown TLS mode'],
    [{ mode: 'require', caFile: 'ca.pem' }, 'clusters.ESHA.db.tls.caFile', 'must be an absolute path'],
    [{ mode: 'require', sslmode: 'x' }, 'clusters.ESHA.db.tls', 'sslmode'],
    [
      { mode: 'verify-full', caFile: '/nonexistent/ca.pem' },
      'clusters.ESHA.db.tls.caFile',
      'CA file /nonexistent/ca.pem does not exist',
    ],
  ])('refuses %j', async (tls, path, message) => {
    const r = await load(example(tls));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems).toContainEqual({ path, message: expect.stringContaining(message) });
  });
});

describe('secrets too short to be kept out of logs', () => {
  it('refuses a 1–3 character secret at load time, without echoing it', async () => {
    const doc = example();
    doc.clusters.ESHA!.db.password = { env: 'SHORT_PW' };
    const r = await load(doc);
    expect(r.ok ? [] : r.problems).toEqual([
      {
        path: 'clusters.ESHA.db.password',
        message: expect.stringContaining('shorter than 4 characters'),
      },
    ]);
    expect(JSON.stringify(r)).not.toContain('abc');
  });

  it('accepts a 4 character one', async () => {
    const doc = example();
    doc.clusters.ESHA!.db.password = { env: 'FOUR' };
    const r = await load(doc, { FOUR: 'wxyz' });
    expect(r.ok && r.secrets).toEqual(['wxyz']);
  });
});
