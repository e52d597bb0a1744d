import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ARTIFACTS_ENV,
  readRegisteredSecrets,
  registerTestSecret,
  secretsFileFor,
  writeArtifact,
} from '../../support/artifacts';
import globalTeardown from '../../support/global-teardown';
import { describeFinding, scanForSecrets } from '../../support/scan-artifacts';

// The scan run over everything the test suite produced must be able to fail: a secret planted in an
// artifacts directory is found in each of its forms, reported by file and line, never printed.

const SECRET = 'Pl4nted-lab-password';
const b64 = (s: string) => Buffer.from(s).toString('base64');

let root: string;
let dir: string;
const previous = process.env[ARTIFACTS_ENV];

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kbops-scan-test-'));
  dir = join(root, 'artifacts');
  mkdirSync(dir);
  process.env[ARTIFACTS_ENV] = dir;
});
afterEach(() => {
  if (previous === undefined) delete process.env[ARTIFACTS_ENV];
  else process.env[ARTIFACTS_ENV] = previous;
  rmSync(root, { recursive: true, force: true });
});

describe('scanForSecrets', () => {
  it('finds nothing in clean artifacts', () => {
    writeFileSync(join(dir, 'slack.json'), '{"text":"password=[REDACTED]"}\n');
    expect(scanForSecrets(dir, [SECRET])).toEqual([]);
  });

  it('finds a planted secret, plain and base64, by file and line', () => {
    mkdirSync(join(dir, 'nested'));
    writeFileSync(join(dir, 'bot.log'), `line one\nline two ${SECRET}\n`);
    writeFileSync(join(dir, 'nested', 'plan.txt'), `a\nb\nprimary_conninfo password=${b64(SECRET)}\n`);
    writeFileSync(
      join(dir, 'journal.json'),
      `{"x":1}\n{"url":"postgres://u:${encodeURIComponent('p@ss:w/rd')}@h"}\n`,
    );
    const findings = scanForSecrets(dir, [SECRET, 'p@ss:w/rd']);
    expect(findings).toEqual(
      expect.arrayContaining([
        { file: 'bot.log', line: 2, secret: 1, form: 'plain' },
        { file: join('nested', 'plan.txt'), line: 3, secret: 1, form: 'base64' },
        { file: 'journal.json', line: 2, secret: 2, form: 'URL-encoded' },
      ]),
    );
    expect(findings).toHaveLength(3);
    expect(findings.map(describeFinding).join('\n')).not.toContain(SECRET);
  });
});

describe('the collector and the teardown scan', () => {
  it('keeps registered secrets outside the scanned directory, in a 0600 file', () => {
    registerTestSecret(SECRET);
    registerTestSecret('with\nnewline');
    expect(readRegisteredSecrets(dir)).toEqual([SECRET, 'with\nnewline']);
    expect(statSync(secretsFileFor(dir)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('fails the run naming the file and line, never the secret', () => {
    registerTestSecret(SECRET);
    writeArtifact('console.txt', `ok\nkbops> connected with ${SECRET}\n`);
    let message = '';
    try {
      globalTeardown();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^secret scan: 1 occurrence\(s\)/);
    expect(message).toMatch(/\d+-\d+-console\.txt:2: secret #1 \(plain\)/);
    expect(message).not.toContain(SECRET);
    expect(readdirSync(dir)).toHaveLength(1); // kept for inspection
  });

  it('passes when the artifacts are clean', () => {
    registerTestSecret(SECRET);
    writeArtifact('console.txt', 'ok\n');
    expect(() => globalTeardown()).not.toThrow();
  });
});
