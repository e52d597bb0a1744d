import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS_ENV, secretsFileFor } from './artifacts';

// Top-level jest globalSetup: the directory every test writes what it produced into, for the secret
// scan in global-teardown.ts. Set before the workers start, so they all inherit it.
// eslint-disable-next-line no-restricted-syntax -- jest takes the default export
export default function globalSetup(): void {
  if (process.env[ARTIFACTS_ENV]) {
    mkdirSync(process.env[ARTIFACTS_ENV], { recursive: true, mode: 0o700 });
  } else {
    const root = mkdtempSync(join(tmpdir(), 'kbops-test-artifacts-'));
    process.env[ARTIFACTS_ENV] = join(root, 'artifacts');
    mkdirSync(process.env[ARTIFACTS_ENV], { mode: 0o700 });
  }
  writeFileSync(secretsFileFor(process.env[ARTIFACTS_ENV]), '', { mode: 0o600, flag: 'a' });
}
