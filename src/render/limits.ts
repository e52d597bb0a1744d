import type { Button, KnownBlock, SectionBlock, SlackMessage } from './slack-message';

// Slack's hard limits (../shared/slack/README.md) and the helpers that make every message respect
// them whatever it is fed: texts cut on a line boundary with "…", blocks beyond the count or the
// payload size replaced by one "… N more" line, buttons always kept when anything must go.

export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** Block payloads near ~13 k characters have been refused (msg_blocks_too_long): the whole message stays under this. */
  messageJson: 12_000,
  /** Slack truncates `text` past 40,000; kbops keeps the notification text short, for the payload's sake. */
  fallbackText: 1000,
} as const;

export const ELLIPSIS = '…';
const FENCE = '```';

/** Cuts `text` to at most `n` characters without splitting a surrogate pair, an `&amp;` or a `<…>` token. */
export function cutAt(text: string, n: number): string {
  let end = Math.max(0, Math.min(n, text.length));
  if (end === text.length) return text;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  const amp = text.lastIndexOf('&', end - 1);
  if (amp >= 0 && amp >= end - 5) {
    const semi = text.indexOf(';', amp);
    if (semi === -1 || semi >= end) end = amp;
  }
  const lt = text.lastIndexOf('<', end - 1);
  if (lt >= 0 && text.lastIndexOf('>', end - 1) < lt) end = lt;
  return text.slice(0, end);
}

const fenceOpen = (text: string): boolean => (text.split(FENCE).length - 1) % 2 === 1;

/**
 * At most `max` characters: whole lines kept while they fit, then "…" on a line of its own (a piece of
 * the next line is kept instead when whole lines would waste over half the room). An open ``` is closed.
 */
export function truncateText(text: string, max: number, marker: string = ELLIPSIS): string {
  if (text.length <= max) return text;
  if (max <= marker.length) return marker.slice(0, Math.max(0, max));
  const fenceRoom = text.includes(FENCE) ? FENCE.length + 1 : 0;
  const budget = max - marker.length - 1 - fenceRoom;
  const lines = text.split('\n');
  const kept: string[] = [];
  let used = -1; // length of kept.join('\n')
  for (const line of lines) {
    if (used + 1 + line.length <= budget) {
      kept.push(line);
      used += 1 + line.length;
      continue;
    }
    const prefix = used + 1;
    if (kept.length === 0 || budget - prefix > budget / 2) {
      const piece = cutAt(line, max - prefix - marker.length - fenceRoom);
      const body = [...kept, piece].join('\n');
      return `${body}${marker}${fenceOpen(body) ? `\n${FENCE}` : ''}`;
    }
    break;
  }
  const body = kept.join('\n');
  return `${body}${fenceOpen(body) ? `\n${FENCE}` : ''}\n${marker}`;
}

/** One line of at most `max` characters (for plain-text labels: headers, buttons, dialog titles). */
export function truncateLine(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  if (flat.length <= max) return flat;
  return max <= ELLIPSIS.length
    ? ELLIPSIS.slice(0, Math.max(0, max))
    : `${cutAt(flat, max - ELLIPSIS.length)}${ELLIPSIS}`;
}

/** Splits a line into pieces of at most `max` characters (each at least one character long). */
export function splitLine(line: string, max: number): string[] {
  if (line.length <= max) return [line];
  const pieces: string[] = [];
  let rest = line;
  while (rest.length > max) {
    let piece = cutAt(rest, max);
    if (piece === '') piece = rest.slice(0, Math.max(1, max));
    pieces.push(piece);
    rest = rest.slice(piece.length);
  }
  if (rest !== '') pieces.push(rest);
  return pieces;
}

/**
 * Groups lines into texts of at most `max` characters, each a code block when `fence` is set (a ```
 * inside a line is broken up). Over-long lines are split; chunks holding nothing visible are dropped.
 */
export function chunkLines(lines: readonly string[], max: number, fence = false): string[] {
  const open = fence ? `${FENCE}\n` : '';
  const close = fence ? `\n${FENCE}` : '';
  const room = Math.max(1, max - open.length - close.length);
  const out: string[] = [];
  let cur: string[] = [];
  let used = -1;
  const flush = (): void => {
    const body = cur.join('\n');
    if (body.trim() !== '') out.push(`${open}${body}${close}`);
    cur = [];
    used = -1;
  };
  for (const line of lines) {
    const safe = fence ? line.replace(/```/g, '`\u200b``') : line;
    for (const piece of splitLine(safe, room)) {
      if (used + 1 + piece.length > room) flush();
      cur.push(piece);
      used += 1 + piece.length;
    }
  }
  flush();
  return out;
}

export interface FitOptions {
  /** The line standing for `n` blocks left out. */
  readonly more?: (n: number) => string;
  /** Characters the blocks' JSON may take (default: the whole message budget). */
  readonly maxJson?: number;
}

export const seeFullPlan = (n: number): string => `${ELLIPSIS} ${n} more, see the full plan`;

const L = SLACK_LIMITS;

function fitButton(b: Button): Button {
  const out: Button = {
    ...b,
    text: { ...b.text, text: truncateLine(b.text.text, L.buttonText) },
    action_id: b.action_id === undefined ? undefined : b.action_id.slice(0, L.actionId),
  };
  if (out.action_id === undefined) delete out.action_id;
  if (b.value !== undefined) out.value = b.value.slice(0, L.buttonValue);
  if (b.confirm) {
    const c = b.confirm;
    out.confirm = {
      ...c,
      text: { ...c.text, text: truncateText(c.text.text, L.confirmText) },
      ...(c.title && { title: { ...c.title, text: truncateLine(c.title.text, L.confirmTitle) } }),
      ...(c.confirm && { confirm: { ...c.confirm, text: truncateLine(c.confirm.text, L.confirmButton) } }),
      ...(c.deny && { deny: { ...c.deny, text: truncateLine(c.deny.text, L.confirmButton) } }),
    };
  }
  return out;
}

const fitBlockId = <T extends KnownBlock>(b: T): T =>
  b.block_id !== undefined && b.block_id.length > L.blockId
    ? { ...b, block_id: b.block_id.slice(0, L.blockId) }
    : b;

/** One block within its own limits; a section with too many fields becomes several sections. */
function fitBlock(block: KnownBlock): KnownBlock[] {
  const b = fitBlockId(block);
  switch (b.type) {
    case 'header':
      return [{ ...b, text: { ...b.text, text: truncateLine(b.text.text, L.headerText) } }];
    case 'section': {
      const s: SectionBlock = { ...b };
      if (b.text) s.text = { ...b.text, text: truncateText(b.text.text, L.sectionText) };
      if (b.accessory?.type === 'button') s.accessory = fitButton(b.accessory);
      if (b.fields === undefined) return [s];
      const fields = b.fields.map((f) => ({ ...f, text: truncateText(f.text, L.fieldText) }));
      s.fields = fields.slice(0, L.sectionFields);
      const more: SectionBlock[] = [];
      for (let i = L.sectionFields; i < fields.length; i += L.sectionFields)
        more.push({ type: 'section', fields: fields.slice(i, i + L.sectionFields) });
      return [s, ...more];
    }
    case 'context':
      return [
        {
          ...b,
          elements: b.elements
            .slice(0, L.contextElements)
            .map((e) =>
              'text' in e && typeof e.text === 'string'
                ? { ...e, text: truncateText(e.text, L.contextText) }
                : e,
            ),
        },
      ];
    case 'actions':
      return [
        {
          ...b,
          elements: b.elements
            .slice(0, L.actionsElements)
            .map((e) => (e.type === 'button' ? fitButton(e) : e)),
        },
      ];
    default:
      return [b];
  }
}

const noticeBlock = (text: string): KnownBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: truncateText(text, L.contextText) }],
});

/**
 * Blocks within every limit: each block fitted, then at most 50 blocks whose JSON takes at most
 * `maxJson` characters. What must go goes from the end, buttons last, and one line says how many.
 */
export function fitBlocks(blocks: readonly KnownBlock[], options: FitOptions = {}): KnownBlock[] {
  const fitted = blocks.flatMap(fitBlock);
  const maxJson = options.maxJson ?? L.messageJson;
  const sizes = fitted.map((b) => JSON.stringify(b).length);
  const arrayJson = (count: number, sum: number): number => 2 + sum + Math.max(0, count - 1);
  let sum = sizes.reduce((a, s) => a + s, 0);
  if (fitted.length <= L.blocksPerMessage && arrayJson(fitted.length, sum) <= maxJson) return fitted;

  const indices = fitted.map((_, i) => i).reverse();
  const order = [
    ...indices.filter((i) => fitted[i]?.type !== 'actions'),
    ...indices.filter((i) => fitted[i]?.type === 'actions'),
  ];
  const dropped = new Set<number>();
  let notice = noticeBlock((options.more ?? seeFullPlan)(0));
  for (const i of order) {
    dropped.add(i);
    sum -= sizes[i] ?? 0;
    notice = noticeBlock((options.more ?? seeFullPlan)(dropped.size));
    const count = fitted.length - dropped.size + 1;
    if (count <= L.blocksPerMessage && arrayJson(count, sum + JSON.stringify(notice).length) <= maxJson)
      break;
  }
  const firstGone = Math.min(...dropped);
  const out: KnownBlock[] = [];
  fitted.forEach((b, i) => {
    if (i === firstGone) out.push(notice);
    if (!dropped.has(i)) out.push(b);
  });
  return out;
}

/** The whole message within Slack's limits, fallback text included (other keys are kept as they are). */
export function fitMessage<T extends SlackMessage>(message: T, options: FitOptions = {}): T {
  const text = truncateText(message.text, L.fallbackText);
  const shell = JSON.stringify({ ...message, text, blocks: [] }).length - 2;
  const maxJson = Math.min(options.maxJson ?? Infinity, L.messageJson - shell);
  return { ...message, text, blocks: fitBlocks(message.blocks, { ...options, maxJson }) };
}
