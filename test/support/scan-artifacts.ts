import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { labelledSecretForms } from '../../src/log/scrub-secrets';

// The secret scan: every file under a directory, every secret in each of the forms kbops's scrubber
// knows (plain, base64, URL-encoded, conninfo- and pgpass-escaped, JSON-escaped). A finding names the
// file, the line, which secret (by its number) and in which form — never the secret itself.

export interface SecretFinding {
  /** Path relative to the scanned directory. */
  readonly file: string;
  readonly line: number;
  /** 1-based position of the secret in the list scanned for. */
  readonly secret: number;
  readonly form: string;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return filesUnder(path);
    return e.isFile() ? [path] : [];
  });
}

const lineOf = (text: string, index: number): number => {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
};

export function scanForSecrets(dir: string, secrets: readonly string[]): SecretFinding[] {
  const forms = secrets.flatMap((s, i) =>
    labelledSecretForms(s).map(([form, text]) => ({ secret: i + 1, form, bytes: Buffer.from(text) })),
  );
  const findings: SecretFinding[] = [];
  for (const path of filesUnder(dir)) {
    if (statSync(path).size === 0) continue;
    // Bytes, not text: an uploaded file or a log need not be valid UTF-8 for a secret to be in it.
    const content = readFileSync(path);
    const text = content.toString('latin1');
    const seen = new Set<string>();
    for (const f of forms) {
      const at = content.indexOf(f.bytes);
      if (at === -1) continue;
      const line = lineOf(text, at);
      const key = `${f.secret}:${line}`;
      if (seen.has(key)) continue; // the plain form is inside its escaped forms: report it once
      seen.add(key);
      findings.push({ file: relative(dir, path), line, secret: f.secret, form: f.form });
    }
  }
  return findings;
}

export const describeFinding = (f: SecretFinding): string =>
  `${f.file}:${f.line}: secret #${f.secret} (${f.form})`;
