import type { FakeMessage, FakeSlackState } from './fake-slack-state';

export interface TranscriptOptions {
  /** `all` (default) lists every chat.update / replace_original; `last` shows only the final content. */
  readonly updates?: 'all' | 'last';
  /** Extra masking applied to the finished text (after ts placeholders and timing masks). */
  readonly mask?: (text: string) => string;
}

type Json = Record<string, unknown>;

// Timings differ on every run, so golden files must not contain them. Durations come in many shapes
// ("340 ms", "1.2s", "1m20s", "3 minutes"); clock times and ISO stamps too; <!date^epoch^...> tokens.
const TIMING_MASKS: readonly [RegExp, string][] = [
  [/<!date\^\d+/g, '<!date^<epoch>'],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/g, '<time>'],
  [/\b\d{2}:\d{2}:\d{2}(?:\.\d+)?\b/g, '<time>'],
  [
    /\b\d+(?:\.\d+)?\s?(?:ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?)(?:\s?\d+(?:\.\d+)?\s?(?:ms|s|secs?|seconds?|m|mins?|minutes?))*\b/g,
    '<dur>',
  ],
];

function plain(value: unknown): string {
  if (value && typeof value === 'object' && 'text' in value) return String((value as Json).text);
  return value === undefined ? '' : JSON.stringify(value);
}

function describeElement(element: unknown): string {
  const e = (element ?? {}) as Json;
  const action = e.action_id === undefined ? '' : ` -> ${String(e.action_id)}`;
  if (e.type !== 'button') return `[${String(e.type)}${action}]`;
  const style = e.style ? ` (${String(e.style)})` : '';
  const value = e.value === undefined ? '' : `=${String(e.value)}`;
  const confirm = e.confirm ? ` confirm "${plain((e.confirm as Json).title)}"` : '';
  return `[${plain(e.text)}${style}${action}${value}${confirm}]`;
}

function describeBlock(block: unknown): string {
  const b = (block ?? {}) as Json;
  const elements = Array.isArray(b.elements) ? b.elements : [];
  switch (b.type) {
    case 'section': {
      const parts = [`section: ${plain(b.text)}`];
      if (Array.isArray(b.fields)) parts.push(`fields: ${b.fields.map(plain).join(' | ')}`);
      if (b.accessory) parts.push(`accessory: ${describeElement(b.accessory)}`);
      return parts.join('\n');
    }
    case 'header':
      return `header: ${plain(b.text)}`;
    case 'divider':
      return 'divider';
    case 'context':
      return `context: ${elements.map((e: Json) => (e.type === 'image' ? `[image ${String(e.alt_text)}]` : plain(e))).join(' · ')}`;
    case 'actions':
      return `actions: ${elements.map(describeElement).join(' ')}`;
    case 'input':
      return `input: ${plain(b.label)} ${describeElement(b.element)}`;
    default:
      return `${String(b.type)}: ${JSON.stringify(b)}`;
  }
}

/** Prefix on the first line, indent on the rest, so multi-line text stays readable and aligned. */
function indented(prefix: string, indent: string, text: string): string[] {
  const [first = '', ...rest] = text.split('\n');
  return [`${prefix}${first}`.trimEnd(), ...rest.map((line) => `${indent}${line}`.trimEnd())];
}

function content(indent: string, head: string, text: string, blocks: unknown[] | undefined): string[] {
  const out = indented(head, indent + '  ', text);
  for (const block of blocks ?? [])
    out.push(...indented(`${indent}  | `, `${indent}  | `, describeBlock(block)));
  return out;
}

function describeMessage(state: FakeSlackState, m: FakeMessage, indent: string, options: TranscriptOptions) {
  const flags = `${m.deleted ? ' (deleted)' : ''}${m.truncated ? ' (truncated)' : ''}`;
  const files = m.files.map((id) => {
    const f = state.files.find((file) => file.id === id);
    return `\n[file ${id} "${f?.title ?? ''}" ${f?.filename ?? ''}, ${f?.content?.length ?? 0} bytes]`;
  });
  const last = options.updates === 'last';
  const shown = last ? { text: m.text, blocks: m.blocks } : m.posted;
  const out = content(
    indent,
    `${indent}${m.ts} @${m.user}${flags}: `,
    shown.text + files.join(''),
    shown.blocks,
  );
  if (last && m.updates.length > 0) out.push(`${indent}  ~ updated ${m.updates.length} time(s)`);
  if (!last) {
    m.updates.forEach((u, i) => {
      out.push(...content(`${indent}  `, `${indent}  ~ update ${i + 1} (${u.via}): `, u.text, u.blocks));
    });
  }
  return out;
}

function describeView(view: Json, head: string, indent: string): string[] {
  return content(indent, `${head} "${plain(view.title)}"`, '', view.blocks as unknown[] | undefined);
}

export function renderTranscript(state: FakeSlackState, options: TranscriptOptions = {}): string {
  const out: string[] = [];
  const last = options.updates === 'last';
  for (const channel of new Set(state.messages.map((m) => m.channel))) {
    out.push(`# ${channel}`);
    const inChannel = state.messages.filter((m) => m.channel === channel);
    for (const root of inChannel.filter((m) => m.thread_ts === undefined)) {
      out.push(...describeMessage(state, root, '', options));
      for (const reply of inChannel.filter((m) => m.thread_ts === root.ts)) {
        out.push(...describeMessage(state, reply, '    > ', options));
      }
    }
  }
  if (state.ephemerals.length > 0) out.push('# ephemeral');
  for (const e of state.ephemerals) {
    const where = `${e.channel}${e.thread_ts ? ` thread ${e.thread_ts}` : ''}`;
    out.push(...content('', `${e.message_ts} to @${e.user} in ${where}: `, e.text, e.blocks));
  }
  // Posts that changed or created a channel message already show there; the rest are listed here.
  const unapplied = state.responses.filter((r) => r.appliedTo === undefined);
  if (unapplied.length > 0) out.push('# response_url');
  for (const r of unapplied) {
    const flags = [
      r.response_type,
      r.replace_original && 'replace_original',
      r.delete_original && 'delete_original',
    ];
    out.push(
      ...content('', `${r.id} use ${r.use} (${flags.filter(Boolean).join(', ')}): `, r.text, r.blocks),
    );
  }
  if (state.views.length > 0) out.push('# views');
  for (const v of state.views) {
    out.push(...describeView(last ? v.view : v.opened, `${v.id} ${String(v.view.type)}`, ''));
    if (last && v.updates.length > 0) out.push(`  ~ updated ${v.updates.length} time(s)`);
    if (!last) v.updates.forEach((u, i) => out.push(...describeView(u.view, `  ~ update ${i + 1}`, '  ')));
  }
  return finish(state, `${out.join('\n')}\n`, options);
}

function finish(state: FakeSlackState, text: string, options: TranscriptOptions): string {
  // ts values change every run: replace each with its creation ordinal (<ts1>, <ts2>, ...).
  const stamps = [...state.messages.map((m) => m.ts), ...state.ephemerals.map((e) => e.message_ts)].sort();
  let result = text;
  stamps.forEach((ts, i) => (result = result.split(ts).join(`<ts${i + 1}>`)));
  for (const [pattern, replacement] of TIMING_MASKS) result = result.replace(pattern, replacement);
  return options.mask ? options.mask(result) : result;
}
