import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { labLayout, labOptionsFromEnv } from '../../lab/lab-layout';
import { ARTIFACTS_ENV, labSecrets, readRegisteredSecrets } from './artifacts';
import { describeFinding, scanForSecrets } from './scan-artifacts';

// Top-level jest globalTeardown: the secret scan. Every secret the labs registered (and the shared
// lab's, still up) is looked for in everything the tests kept; one occurrence fails the run, naming
// the file and line and never the secret. Clean runs leave nothing behind; a failing one keeps the
// artifacts for inspection (set KBOPS_KEEP_TEST_ARTIFACTS=1 to keep them anyway).
// eslint-disable-next-line no-restricted-syntax -- jest takes the default export
export default function globalTeardown(): void {
  const dir = process.env[ARTIFACTS_ENV];
  if (!dir) return;
  const started = Date.now();
  const secrets = [
    ...new Set([...readRegisteredSecrets(dir), ...labSecrets(labLayout(labOptionsFromEnv(process.env)))]),
  ];
  const findings = scanForSecrets(dir, secrets);
  const took = Date.now() - started;
  if (findings.length > 0) {
    throw new Error(
      `secret scan: ${findings.length} occurrence(s) of test secrets in what the tests produced ` +
        `(kept in ${dir}):\n${findings.map(describeFinding).join('\n')}`,
    );
  }
  process.stderr.write(`[secret scan] ${secrets.length} secret(s), no occurrence (${took} ms)\n`);
  if (!process.env.KBOPS_KEEP_TEST_ARTIFACTS && dir.includes('kbops-test-artifacts-')) {
    rmSync(dirname(dir), { recursive: true, force: true });
  }
}
