/**
 * Secret scrubbing shared by the logger and (later) the Slack renderer.
 * Three nets, in order of trust: known secret values registered by the config loader, secret-looking
 * object keys, and text patterns. Patterns are a best effort; the registry is what reliably catches a
 * password that appears somewhere no pattern expects.
 */

export const REDACTED = '[REDACTED]';

/**
 * Shorter values would mask ordinary text (ports, years, short words) all over the logs; the config
 * refuses such secrets (resolveSecret), so every secret kbops uses is long enough to be registered.
 */
export const MIN_SECRET_LENGTH = 4;
const MAX_DEPTH = 16;

// Variants of registered secrets, longest first so a longer form is never half-replaced by a shorter one.
const secretVariants = new Set<string>();
let sortedVariants: string[] = [];

/**
 * The forms a secret takes on its way into files, command output and logs: as is, base64 (how
 * KingbaseES V8R3 stores the password in primary_conninfo, padded or not), URL-encoded (a database
 * URL), backslash-escaped inside a quoted conninfo value, escaped for a .pgpass/pcppass line, and
 * JSON-escaped (a log line or a journal row holding it as a string).
 */
export function secretForms(value: string): string[] {
  return [...new Set(labelledSecretForms(value).map(([, form]) => form))];
}

/** `secretForms` with the name of each form, for reports that must say which form leaked but not the value. */
export function labelledSecretForms(value: string): Array<readonly [string, string]> {
  const base64 = Buffer.from(value, 'utf8').toString('base64');
  const forms: Array<readonly [string, string | undefined]> = [
    ['plain', value],
    ['base64', base64],
    ['base64 (unpadded)', base64.replace(/=+$/, '')],
    ['URL-encoded', attempt(() => encodeURIComponent(value))], // throws on lone surrogates
    ['conninfo-escaped', value.replace(/[\\']/g, '\\$&')],
    ['pgpass-escaped', value.replace(/[\\:]/g, '\\$&')],
    ['JSON-escaped', JSON.stringify(value).slice(1, -1)],
  ];
  return forms.filter((f): f is readonly [string, string] => typeof f[1] === 'string' && f[1] !== '');
}

/** Remembers a secret value so any later output containing it in any of its `secretForms` is masked. */
export function registerSecret(value: string): void {
  if (typeof value !== 'string') return;
  for (const candidate of new Set([value, value.trim()])) {
    if (candidate.length < MIN_SECRET_LENGTH || REDACTED.includes(candidate)) continue;
    for (const variant of secretForms(candidate)) secretVariants.add(variant);
  }
  sortedVariants = [...secretVariants].sort((a, b) => b.length - a.length);
}

const SECRET_KEY_WORDS =
  /password|passwd|pwd|secret|token|api[_-]?key|authorization|private[_-]?key|passphrase|conninfo|cookie/i;
// Keys that name where a secret lives (passwordFile, privateKeyPath, tokenEnv) hold no secret themselves,
// and seeing them matters when debugging; their values still go through scrubText.
const POINTER_KEY_SUFFIX = /[_-]?(?:file|path|env)$/i;

/** True for object keys whose value should never be logged (case-insensitive, any separator). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY_WORDS.test(key) && !POINTER_KEY_SUFFIX.test(key);
}

// In text, `scrub-secrets.ts:42` (a stack frame) or `password.txt: no such file` is a file name, not a key.
const FILE_NAME = /\.(?:[cm]?[jt]s|json|ya?ml|conf|txt|pem|key|pub|sh|log)$/i;

function isSecretTextKey(key: string): boolean {
  return isSecretKey(key) && !FILE_NAME.test(key);
}

type Replacer = (match: string, ...groups: string[]) => string;

// A value after `key=`: single-quoted (libpq conninfo, may be cut off), double-quoted (shell),
// JSON-escaped double-quoted, or bare up to whitespace/quote/&.
const VALUE = String.raw`(?:'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|\\"(?:[^"\\]|\\[^"])*(?:\\")?|[^\s'"&]+)`;
// Bounded affixes keep these regexes linear on long hyphenated strings.
const KEY = String.raw`[\w.-]{0,40}(?:password|passwd|pwd|secret|token|api[_-]?key|passphrase|private[_-]?key)[\w.-]{0,40}`;
const ANY_KEY = String.raw`[\w.-]{0,40}(?:password|passwd|pwd|secret|token|api[_-]?key|authorization|private[_-]?key|passphrase|conninfo|cookie)[\w.-]{0,40}`;

const TEXT_RULES: ReadonlyArray<readonly [RegExp, Replacer]> = [
  // PEM private keys, including a block cut off before its END line.
  [
    /-----BEGIN ([A-Z0-9 ]{0,40}?)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]{0,40}?PRIVATE KEY-----|$)/g,
    (_m, kind) => `-----BEGIN ${kind}PRIVATE KEY-----${REDACTED}-----END ${kind}PRIVATE KEY-----`,
  ],
  // "password": "x" inside JSON or JS-ish text: the whole value, as for an object field.
  [
    new RegExp(
      String.raw`(["'])(${ANY_KEY})\1([ \t]*:[ \t]*)(?:"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|[^\s,}\]]+)`,
      'gi',
    ),
    (m, q, key, sep) => (isSecretTextKey(key) ? `${q}${key}${q}${sep}"${REDACTED}"` : m),
  ],
  // Authorization: Bearer x / authorization=Basic x — keep the scheme, drop the credential.
  [
    /\b(authorization["']?[ \t]*[:=][ \t]*["']?)((?:bearer|basic|digest|token|negotiate)[ \t]+)?[^\s'",;]+/gi,
    (_m, head, scheme = '') => `${head}${scheme}${REDACTED}`,
  ],
  [/\b(Bearer)[ \t]+[A-Za-z0-9._~+/=-]{8,}/gi, (_m, scheme) => `${scheme} ${REDACTED}`],
  // password=x, PGPASSWORD="x", --password=x, api_key: x (conninfo, env, argv, YAML). Not conninfo keys:
  // a logged conninfo keeps host/port, its password is caught by this same rule.
  [
    new RegExp(String.raw`(?<![\w.-])(${KEY})([ \t]*[=:][ \t]*)${VALUE}`, 'gi'),
    (m, key, sep) => (isSecretTextKey(key) ? `${key}${sep}${REDACTED}` : m),
  ],
  // SQL: CREATE/ALTER USER ... PASSWORD 'x', IDENTIFIED BY 'x' (Oracle mode).
  [/\b(PASSWORD|IDENTIFIED[ \t]+BY)([ \t]+)'(?:[^']|'')*'?/gi, (_m, word, sp) => `${word}${sp}'${REDACTED}'`],
  // KingbaseES client tools take the password as `-W 123456` (or -W123456); `--password x` likewise.
  // A following option (-h) means PostgreSQL's value-less -W, so it is left alone.
  [
    new RegExp(String.raw`(^|[\s"'=])(-W|--password)([ \t]*)(?!-)${VALUE}`, 'g'),
    (m, lead, flag, sp) => (flag === '--password' && sp === '' ? m : `${lead}${flag}${sp || ' '}${REDACTED}`),
  ],
  // scheme://user:pass@host — the password may itself contain '@', so take the last one.
  [
    /\b([a-z][a-z0-9+.-]{0,30}:\/\/)([^\s:@/'"`]*):([^\s/'"`]*)@/gi,
    (_m, scheme, user) => `${scheme}${user}:${REDACTED}@`,
  ],
  // Slack tokens (xoxb-, xoxp-, xoxa-, xoxr-, xoxe.xoxp-, xapp-) and webhook URLs.
  [/\b((?:xox[a-z]\.)?x(?:ox[a-z]|app))-[A-Za-z0-9-]+/g, (_m, prefix) => `${prefix}-${REDACTED}`],
  [/(hooks\.slack\.com\/(?:services|workflows|triggers)\/)[\w/-]+/gi, (_m, head) => `${head}${REDACTED}`],
];

/** Masks secrets in free text: registered values (and their base64) first, then known patterns. */
export function scrubText(text: string): string {
  let out = text;
  for (const secret of sortedVariants) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replace] of TEXT_RULES) {
    out = out.replace(pattern, replace);
  }
  return out;
}

/**
 * A scrubbed deep copy that JSON.stringify can print without leaking: secret-keyed fields replaced,
 * strings scrubbed, Errors turned into { type, message, stack, ... }, cycles cut. Never mutates `value`.
 */
export function scrubValue(value: unknown): unknown {
  return scrubAny(value, new WeakSet<object>(), 0);
}

function scrubAny(value: unknown, ancestors: WeakSet<object>, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (value instanceof RegExp) return scrubText(String(value));
  // Bytes print as a number array that no pattern can read (an SSH key Buffer would leak), so summarize.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[Binary ${value.byteLength} bytes]`;
  if (ancestors.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  ancestors.add(value);
  try {
    return scrubObject(value, ancestors, depth + 1);
  } finally {
    // Only ancestors count as cycles; the same object twice side by side is printed twice.
    ancestors.delete(value);
  }
}

function scrubObject(value: object, ancestors: WeakSet<object>, depth: number): unknown {
  if (Array.isArray(value)) return value.map((item) => scrubAny(item, ancestors, depth));
  if (value instanceof Error) return scrubError(value, ancestors, depth);
  if (value instanceof Set) return [...value].map((item) => scrubAny(item, ancestors, depth));
  if (value instanceof Map) {
    return scrubEntries(
      [...value].map(([k, v]) => [String(k), v]),
      ancestors,
      depth,
    );
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    // What JSON.stringify would print is what must be scrubbed.
    const json = attempt(() => (toJSON as () => unknown).call(value));
    return json === value
      ? scrubEntries(ownEntries(value), ancestors, depth)
      : scrubAny(json, ancestors, depth);
  }
  return scrubEntries(ownEntries(value), ancestors, depth);
}

function scrubError(err: Error, ancestors: WeakSet<object>, depth: number): Record<string, unknown> {
  const ctor = (err as { constructor?: unknown }).constructor;
  const type = typeof ctor === 'function' && ctor.name ? ctor.name : err.name;
  const out: Record<string, unknown> = {
    type,
    message: scrubText(String(attempt(() => err.message) ?? '')),
    stack: scrubText(String(attempt(() => err.stack) ?? '')),
  };
  const rest = scrubEntries(ownEntries(err), ancestors, depth);
  for (const [key, val] of Object.entries(rest)) if (!(key in out)) out[key] = val;
  // cause and errors are usually non-enumerable, so ownEntries missed them.
  const cause = attempt(() => err.cause);
  if (cause !== undefined && out.cause === undefined) out.cause = scrubAny(cause, ancestors, depth);
  const errors = attempt(() => (err as { errors?: unknown }).errors);
  if (Array.isArray(errors) && out.errors === undefined) out.errors = scrubAny(errors, ancestors, depth);
  return out;
}

function scrubEntries(
  entries: ReadonlyArray<readonly [string, unknown]>,
  ancestors: WeakSet<object>,
  depth: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, val] of entries) {
    const scrubbed = isSecretKey(key) && isMaskable(val) ? REDACTED : scrubAny(val, ancestors, depth);
    // defineProperty, so a "__proto__" key stays data instead of becoming the copy's prototype.
    Object.defineProperty(out, scrubText(key), {
      value: scrubbed,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Booleans (hasPassword: true) and empty values carry no secret and are worth seeing. */
function isMaskable(value: unknown): boolean {
  return value !== null && value !== undefined && typeof value !== 'boolean';
}

function ownEntries(value: object): Array<[string, unknown]> {
  return Object.keys(value).map((key) => [
    key,
    attempt(() => (value as Record<string, unknown>)[key], '[Unreadable]'),
  ]);
}

/** Getters and toJSON can throw; logging must not. */
function attempt<T>(read: () => T, fallback?: T): T | undefined {
  try {
    return read();
  } catch {
    return fallback;
  }
}
