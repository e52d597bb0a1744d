import { readFile } from 'node:fs/promises';
import type { SecretRef } from './inventory-schema';

export type SecretResult = { ok: true; value: string } | { ok: false; message: string };

export type Env = Readonly<Record<string, string | undefined>>;

export interface SecretSources {
  readonly env: Env;
  readonly readText?: (path: string) => Promise<string>;
}

/** Reads a secret from where the inventory points. The reason on failure never holds the value. */
export async function resolveSecret(ref: SecretRef, sources: SecretSources): Promise<SecretResult> {
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
