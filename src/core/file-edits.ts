import type { FileEdit } from './plan';
import type { Failure } from './run';

// Structured, idempotent edits of configuration files: applying an edit twice gives the same text as
// applying it once, so a step can be re-run after a crash. Untouched lines keep their exact bytes,
// line endings included, and a file without a final newline still has none.

export type EditResult = { ok: true; content: string; changed: boolean } | { ok: false; failure: Failure };

export function applyEdit(content: string, edit: FileEdit): EditResult {
  if (edit.type === 'replace') return done(content, edit.content);
  if (edit.type === 'edits') {
    let text = content;
    for (const e of edit.edits) {
      const r = applyEdit(text, e);
      if (!r.ok) return r;
      text = r.content;
    }
    return done(content, text);
  }
  const file = parseLines(content);
  const problem = editProblem(edit);
  if (problem !== undefined) return { ok: false, failure: problem };
  switch (edit.type) {
    case 'set-keys':
      setKeys(file, edit.entries);
      break;
    case 'unset-keys': {
      const keys = new Set(edit.keys.map((k) => k.toLowerCase()));
      file.lines = file.lines.filter((l) => !keys.has(activeKey(l.text)?.key.toLowerCase() ?? ''));
      break;
    }
    case 'append-lines': {
      const present = new Set(file.lines.map((l) => collapse(l.text)));
      for (const line of edit.lines) {
        if (present.has(collapse(line))) continue;
        present.add(collapse(line));
        file.lines.push({ text: line, eol: null });
      }
      break;
    }
    case 'remove-lines': {
      const drop = new Set(edit.lines.map(collapse));
      file.lines = file.lines.filter((l) => !drop.has(collapse(l.text)));
      break;
    }
    case 'shell-array-add':
    case 'shell-array-remove': {
      const r = editArray(file, edit.name, edit.values, edit.type === 'shell-array-add');
      if (r !== undefined) return { ok: false, failure: r };
      break;
    }
    case 'shell-var-set': {
      const r = setShellVar(file, edit.name, edit.value);
      if (r !== undefined) return { ok: false, failure: r };
      break;
    }
  }
  return done(content, serialise(file));
}

const done = (before: string, after: string): EditResult => ({
  ok: true,
  content: after,
  changed: after !== before,
});

// --- lines -------------------------------------------------------------------------------------

/** A line without its terminator; eol null: a line we added (it gets the file's usual ending). */
interface Line {
  text: string;
  eol: string | null;
}

interface Lines {
  lines: Line[];
  /** Whether the file ended with a line terminator (an empty file counts as yes: new files get one). */
  trailing: boolean;
  /** The ending new lines get: CRLF when the file already uses it. */
  eol: string;
}

function parseLines(content: string): Lines {
  const eol = content.includes('\r\n') ? '\r\n' : '\n';
  const lines: Line[] = [];
  const re = /([^\n]*?)(\r?\n|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < content.length && (m = re.exec(content)) !== null) {
    lines.push({ text: m[1] ?? '', eol: m[2] === '' ? null : (m[2] ?? null) });
  }
  const last = lines.at(-1);
  return { lines, trailing: last === undefined || last.eol !== null, eol };
}

function serialise(file: Lines): string {
  const n = file.lines.length;
  return file.lines.map((l, i) => l.text + (i < n - 1 || file.trailing ? (l.eol ?? file.eol) : '')).join('');
}

const collapse = (line: string): string => line.trim().replace(/\s+/g, ' ');

// --- key = value files -------------------------------------------------------------------------

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ACTIVE = /^(\s*)([A-Za-z_][A-Za-z0-9_.-]*)(\s*=\s*)(.*)$/;

interface KeyLine {
  indent: string;
  key: string;
  sep: string;
  value: string;
  /** Whitespace and `# comment` after the value, kept as they were. */
  rest: string;
}

/** Parses an active `key = value  # comment` line; commented-out lines are not active. */
function activeKey(text: string): KeyLine | undefined {
  const m = ACTIVE.exec(text);
  if (m === null) return undefined;
  const [, indent = '', key = '', sep = '', tail = ''] = m;
  const end = valueEnd(tail);
  const value = tail.slice(0, end).trimEnd();
  return { indent, key, sep, value, rest: tail.slice(value.length) };
}

// Where the value stops: at an unquoted `#`; a '…' value may hold `#` (and '' or \' inside it).
function valueEnd(tail: string): number {
  let quoted = false;
  for (let i = 0; i < tail.length; i++) {
    const c = tail[i];
    if (quoted && c === '\\') i++;
    else if (c === "'") quoted = !quoted;
    else if (c === '#' && !quoted) return i;
  }
  return tail.length;
}

function setKeys(file: Lines, entries: Readonly<Record<string, string>>): void {
  // Key order: sorted, because the plan hash ignores key order and jsonb storage reorders keys.
  const sorted = Object.keys(entries).sort();
  const wanted = new Map(sorted.map((k) => [k.toLowerCase(), { key: k, value: entries[k] ?? '' }]));
  const seen = new Set<string>();
  let sep = ' = ';
  for (const line of file.lines) {
    const kl = activeKey(line.text);
    if (kl === undefined) continue;
    sep = kl.sep;
    const want = wanted.get(kl.key.toLowerCase());
    if (want === undefined) continue;
    // Every active line of the key gets the value: a later duplicate would otherwise win.
    seen.add(kl.key.toLowerCase());
    if (kl.value !== want.value) line.text = `${kl.indent}${kl.key}${kl.sep}${want.value}${kl.rest}`;
  }
  // New keys follow the file's own spacing (kingbase.conf in the write-up has `port=54321`).
  for (const [lower, { key, value }] of wanted) {
    if (!seen.has(lower)) file.lines.push({ text: `${key}${sep}${value}`, eol: null });
  }
}

// --- shell (HAmodule.conf) ---------------------------------------------------------------------

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// HAmodule.conf is sourced by scripts that run as root: only plain words (IPs, host and node names).
const SAFE_VALUE = /^[A-Za-z0-9_.:/@%+,=-]*$/;
const TOKEN = /"([^"]*)"|'([^']*)'|([^\s"']+)/g;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function arrayLine(name: string): RegExp {
  return new RegExp(`^(\\s*(?:export\\s+|declare\\s+-a\\s+)?${escapeRe(name)}=\\()([^)]*)(\\).*)$`);
}

function editArray(file: Lines, name: string, values: readonly string[], add: boolean): Failure | undefined {
  const re = arrayLine(name);
  const opener = new RegExp(`^\\s*(?:export\\s+|declare\\s+-a\\s+)?${escapeRe(name)}=\\(`);
  let found = false;
  for (const line of file.lines) {
    if (!opener.test(line.text)) continue;
    const m = re.exec(line.text);
    if (m === null) {
      return {
        code: 'unsupported-format',
        message: `${name}=( … ) spans several lines here; kbops only edits one-line arrays`,
        hint: `Put ${name} on one line, e.g. ${name}=(192.168.4.127 192.168.4.129), then plan again.`,
      };
    }
    found = true;
    line.text = `${m[1]}${rewriteArray(m[2] ?? '', values, add)}${m[3]}`;
  }
  if (found) return undefined;
  return {
    code: 'array-missing',
    message: `the file has no ${name}=( … ) line`,
    hint: `Check the path and this KingbaseES build's HAmodule.conf; kbops does not invent ${name}.`,
  };
}

function rewriteArray(inner: string, values: readonly string[], add: boolean): string {
  const tokens = [...inner.matchAll(TOKEN)].map((t) => ({
    raw: t[0],
    value: t[1] ?? t[2] ?? t[3] ?? '',
    at: t.index,
  }));
  const first = tokens[0];
  const last = tokens.at(-1);
  const lead = first === undefined ? '' : inner.slice(0, first.at);
  const tail = last === undefined ? inner : inner.slice(last.at + last.raw.length);
  const between =
    tokens.length > 1 && first !== undefined ? inner.slice(first.at + first.raw.length, tokens[1]?.at) : ' ';
  const quoteChar = first?.raw.startsWith('"') ? '"' : first?.raw.startsWith("'") ? "'" : '';
  let kept: string[];
  if (add) {
    const have = new Set(tokens.map((t) => t.value));
    const extra = [...new Set(values)].filter((v) => !have.has(v)).map((v) => `${quoteChar}${v}${quoteChar}`);
    kept = [...tokens.map((t) => t.raw), ...extra];
  } else {
    const drop = new Set(values);
    kept = tokens.filter((t) => !drop.has(t.value)).map((t) => t.raw);
  }
  return kept.length === 0 ? lead + tail : `${lead}${kept.join(between)}${tail}`;
}

function setShellVar(file: Lines, name: string, value: string): Failure | undefined {
  const re = new RegExp(`^(\\s*(?:export\\s+)?${escapeRe(name)}=)("[^"]*"|'[^']*'|[^\\s"'#(]*)(.*)$`);
  const isArray = new RegExp(`^\\s*(?:export\\s+|declare\\s+-a\\s+)?${escapeRe(name)}=\\(`);
  let found = false;
  for (const line of file.lines) {
    if (isArray.test(line.text)) {
      return {
        code: 'unsupported-format',
        message: `${name} is an array in this file, not a single value`,
        hint: `Use an array edit for ${name}, or check which variable this KingbaseES build uses.`,
      };
    }
    const m = re.exec(line.text);
    if (m === null) continue;
    found = true;
    const old = m[2] ?? '';
    const q = old.startsWith('"') ? '"' : old.startsWith("'") ? "'" : '';
    line.text = `${m[1]}${q}${value}${q}${m[3]}`;
  }
  if (!found) file.lines.push({ text: `${name}="${value}"`, eol: null });
  return undefined;
}

// --- validation --------------------------------------------------------------------------------

const bad = (message: string, hint: string): Failure => ({ code: 'bad-edit', message, hint });
const BUG_HINT = 'This is a bug in the runbook that built the plan; report it.';

function editProblem(edit: Exclude<FileEdit, { type: 'replace' }>): Failure | undefined {
  const multiLine = (s: string): boolean => /[\r\n]/.test(s);
  switch (edit.type) {
    case 'set-keys':
    case 'unset-keys': {
      const keys = edit.type === 'set-keys' ? Object.keys(edit.entries) : edit.keys;
      const key = keys.find((k) => !KEY.test(k));
      if (key !== undefined) return bad(`${JSON.stringify(key)} is not a configuration key`, BUG_HINT);
      const lower = keys.map((k) => k.toLowerCase());
      const twice = keys.find((_, i) => lower.indexOf(lower[i] ?? '') !== i);
      if (twice !== undefined) return bad(`the key ${twice} is given twice (keys ignore case)`, BUG_HINT);
      if (edit.type === 'set-keys') {
        const k = keys.find((k) => multiLine(edit.entries[k] ?? ''));
        if (k !== undefined) return bad(`the value for ${k} spans several lines`, BUG_HINT);
      }
      return undefined;
    }
    case 'append-lines':
    case 'remove-lines': {
      if (edit.lines.some(multiLine)) return bad('a line to add or remove contains a line break', BUG_HINT);
      if (edit.lines.some((l) => l.trim() === '')) return bad('a line to add or remove is blank', BUG_HINT);
      return undefined;
    }
    case 'edits':
      return undefined; // each is checked when applied
    case 'shell-array-add':
    case 'shell-array-remove':
    case 'shell-var-set': {
      if (!NAME.test(edit.name))
        return bad(`${JSON.stringify(edit.name)} is not a shell variable name`, BUG_HINT);
      const values = edit.type === 'shell-var-set' ? [edit.value] : edit.values;
      const v = values.find((x) => !SAFE_VALUE.test(x) || (edit.type !== 'shell-var-set' && x === ''));
      if (v === undefined) return undefined;
      return {
        code: 'unsafe-value',
        message: `${JSON.stringify(v)} cannot be written into ${edit.name}: the file is run as shell code`,
        hint: 'Only letters, digits and . : / @ % + , = _ - are allowed (IP addresses, host and node names).',
      };
    }
  }
}
