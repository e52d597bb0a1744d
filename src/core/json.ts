import { createHash } from 'node:crypto';

// Plans, events and results are plain JSON so they can be stored, hashed and shown as they are.

export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** JSON with object keys sorted at every level: the same data always gives the same text. */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v: Json) => canonicalJson(v)).join(',')}]`;
  const obj = value as { readonly [key: string]: Json };
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k] as Json)}`).join(',')}}`;
}

/** sha256 hex of the canonical JSON (pure: hashing is computation, not I/O). */
export const sha256Json = (value: Json): string =>
  createHash('sha256').update(canonicalJson(value)).digest('hex');

export const sha256Text = (text: string | Uint8Array): string =>
  createHash('sha256').update(text).digest('hex');
