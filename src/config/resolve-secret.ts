import { readFile } from 'node:fs/promises';
import { MIN_SECRET_LENGTH, registerSecret } from '../log/scrub-secrets';
import type { SecretRef } from './inventory-schema';

export type SecretResult = { ok: true; value: string } | { ok: false; message: string };

export type Env = Readonly<Record<string, string | undefined>>;

export interface SecretSources {
  readonly env: Env;
  readonly readText?: (path: string) => Promise<string>;
}

/**
 * Reads a secret from where the inventory points, and registers it for scrubbing at once: every read
 * (a rotated password file re-read by a connector included) goes through here, so no value ever
 * reaches a log unregistered. The reason on failure never holds the value.
 */
export async function resolveSecret(ref: SecretRef, sources: SecretSources): Promise<SecretResult> {
  const r = await readSecret(ref, sources);
  if (!r.ok) return r;
  // 1–3 characters cannot be masked without masking ordinary words and numbers all over the logs
  // (and are guessed at once anyway): refuse them rather than log them in clear.
  if (r.value.length < MIN_SECRET_LENGTH) {
    return {
      ok: false,
      message: `${where(ref)} holds a secret shorter than ${MIN_SECRET_LENGTH} characters, which kbops cannot keep out of its logs: use a longer one`,
    };
  }
  registerSecret(r.value);
  return r;
}

const where = (ref: SecretRef): string =>
  'env' in ref ? `environment variable ${ref.env}` : `secret file ${ref.file}`;

async function readSecret(ref: SecretRef, sources: SecretSources): Promise<SecretResult> {
  if ('env' in ref) {
    const value = sources.env[ref.env];
    if (value === undefined || value === '') {
      return { ok: false, message: `environment variable ${ref.env} is not set (or empty)` };
    }
    return { ok: true, value };
  }
  try {
    // One trailing newline is what `echo pw > file` leaves; it is never part of the secret.
    const value = (await (sources.readText ?? ((p) => readFile(p, 'utf8')))(ref.file)).replace(/\r?\n$/, '');
    if (value === '') return { ok: false, message: `secret file ${ref.file} is empty` };
    return { ok: true, value };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    return { ok: false, message: `cannot read secret file ${ref.file} (${code})` };
  }
}
