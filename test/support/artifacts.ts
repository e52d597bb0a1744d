import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LabLayout } from '../../lab/lab-layout';

// What the test suite produced, kept for the secret scan run at the end (test/support/global-teardown.ts).
// One env var, KBOPS_TEST_ARTIFACTS, names the directory the scan reads; the secrets to look for are
// kept next to it (never inside it, or the scan would find them there), in a 0600 file. Without the
// variable (a test file run outside jest's global setup) every function here does nothing.

export const ARTIFACTS_ENV = 'KBOPS_TEST_ARTIFACTS';

export const artifactsDir = (env: NodeJS.ProcessEnv = process.env): string | undefined =>
  env[ARTIFACTS_ENV] || undefined;

/** The file of secrets registered for a given artifacts directory: a sibling, so outside the scan. */
export const secretsFileFor = (dir: string): string => join(dirname(dir), 'secrets.jsonl');

let sequence = 0;

/** Keeps one artifact (a log, a transcript, an uploaded file…) under a name unique to this process. */
export function writeArtifact(name: string, content: string | Buffer): void {
  const dir = artifactsDir();
  if (dir === undefined) return;
  const safe = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 120);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, `${process.pid}-${++sequence}-${safe}`), content, { mode: 0o600 });
}

/** A stream (for a logger's destination, say) whose every write is appended to one artifact. */
export function artifactStream(name: string): { write(chunk: string): boolean } {
  const dir = artifactsDir();
  if (dir === undefined) return { write: () => true };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${process.pid}-${++sequence}-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`);
  return {
    write(chunk: string) {
      appendFileSync(path, chunk, { mode: 0o600 });
      return true;
    },
  };
}

/** Tells the scan to look for this value (and its encoded forms) in everything the tests produced. */
export function registerTestSecret(value: string): void {
  const dir = artifactsDir();
  if (dir === undefined || value === '') return;
  // One JSON string a line: a secret may hold any character, newlines included.
  appendFileSync(secretsFileFor(dir), `${JSON.stringify(value)}\n`, { mode: 0o600 });
}

/** The passwords a lab keeps in its secrets/ directory (read before the lab is taken down). */
export function labSecrets(lab: LabLayout): string[] {
  if (!existsSync(lab.secrets.password)) return [];
  const password = readFileSync(lab.secrets.password, 'utf8').trim();
  return password === '' ? [] : [password];
}

export function registerLabSecrets(lab: LabLayout): void {
  for (const secret of labSecrets(lab)) registerTestSecret(secret);
}

export function readRegisteredSecrets(dir: string): string[] {
  const file = secretsFileFor(dir);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as string);
}
