import type { ChatImage, ChatMessage, ChatSurface } from '../chatops/chat-surface';

// The chat as plain text on a stream, for the local console: every message gets a number (#n),
// thread replies are indented under their root, Block Kit is drawn as text, and each button shown
// gets a choice number ([k]) that `press k` can use while the message still shows it.

export interface ShownButton {
  readonly actionId: string;
  readonly value: string;
  readonly label: string;
  /** The block_id of the actions block it sits in (names the plan hash the buttons were shown with). */
  readonly blockId?: string;
}

export interface TextSink {
  write(text: string): unknown;
}

type Block = Record<string, unknown>;
type Text = { text?: unknown };

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const EMOJI: Readonly<Record<string, string>> = {
  white_check_mark: '✅',
  x: '❌',
  warning: '⚠️',
  arrow_forward: '▶️',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  no_entry_sign: '🚫',
  lock: '🔒',
  bulb: '💡',
  information_source: 'ℹ️',
  octagonal_sign: '🛑',
  rotating_light: '🚨',
  leftwards_arrow_with_hook: '↩️',
  page_facing_up: '📄',
};

/** Plan files longer than this show their first lines only (`/kingbase show <run>` has them all). */
const UPLOAD_LINES = 12;

/** Slack mrkdwn made readable in a terminal: emoji, mentions, dates, links and entities. */
export function plainMrkdwn(text: string): string {
  return text
    .replace(/:([a-z_]+):/g, (all, name: string) => EMOJI[name] ?? all)
    .replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<@([A-Z0-9]+)>/g, '@$1')
    .replace(/<#[A-Z0-9]+\|([^>]+)>/g, '#$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2 ($1)')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/** Values longer than this (a follow-up offer's JSON) are shown cut: the message above says what it plans. */
const SHOWN_VALUE = 40;

/** `[3] Approve (run.approve RABCD2345)`: one button as the console lists it. */
export function buttonLine(n: number, b: ShownButton): string {
  const value = b.value.length > SHOWN_VALUE ? `${b.value.slice(0, SHOWN_VALUE - 1)}…` : b.value;
  return `[${n}] ${b.label} (${b.actionId}${value === '' ? '' : ` ${value}`})`;
}

export class ConsoleSurface implements ChatSurface {
  private seq = 0;
  private choice = 0;
  private readonly number = new Map<string, number>(); // ts → #n
  private readonly buttons = new Map<number, ShownButton & { ts: string }>();

  constructor(private readonly out: TextSink) {}

  post(channel: string, message: ChatMessage, threadTs?: string): Promise<{ ts: string }> {
    const n = ++this.seq;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(n).padStart(6, '0')}`;
    this.number.set(ts, n);
    const where = threadTs ? `  ↳ #${n} (thread #${this.number.get(threadTs) ?? '?'})` : `#${n} [${channel}]`;
    this.print(where, this.render(message, ts), threadTs ? '    ' : '  ');
    return Promise.resolve({ ts });
  }

  update(_channel: string, ts: string, message: ChatMessage): Promise<void> {
    this.forget(ts);
    this.print(`~ updated ${this.number.get(ts) ?? ts}`, this.render(message, ts), '  ');
    return Promise.resolve();
  }

  ephemeral(channel: string, user: string, message: ChatMessage): Promise<void> {
    // Buttons in an ephemeral message stay pressable until the console ends.
    this.print(`(only ${user} sees, in ${channel})`, this.render(message, `ephemeral.${this.seq}`), '  ');
    return Promise.resolve();
  }

  upload(_channel: string, threadTs: string, title: string, content: string): Promise<void> {
    const lines = content.replace(/\n$/, '').split('\n');
    const more = lines.length - UPLOAD_LINES;
    const shown =
      more > 1
        ? [...lines.slice(0, UPLOAD_LINES), `… ${more} more lines (/kingbase show <run> has them all)`]
        : lines;
    this.print(
      `  ↳ file ${title}, ${lines.length} lines (thread #${this.number.get(threadTs) ?? '?'})`,
      shown,
      '    | ',
    );
    return Promise.resolve();
  }

  /** A terminal shows no picture: it says what was posted, and its size. */
  uploadImage(_channel: string, threadTs: string, image: ChatImage): Promise<void> {
    this.print(
      `  ↳ image ${image.filename}, ${image.width}×${image.height} PNG, ${image.png.length} bytes (thread #${this.number.get(threadTs) ?? '?'})`,
      [image.title],
      '    | ',
    );
    return Promise.resolve();
  }

  /** The button shown as choice `n`, or undefined when no message shows it (any more). */
  button(n: number): ShownButton | undefined {
    const b = this.buttons.get(n);
    if (!b) return undefined;
    const { ts: _ts, ...shown } = b;
    return shown;
  }

  /** The newest button shown now whose label is `label` (any case): `press Approve` in a script. */
  buttonLabelled(label: string): number | undefined {
    const want = label.trim().toLowerCase();
    const hits = [...this.buttons.entries()].filter(([, b]) => b.label.toLowerCase() === want);
    return hits.length === 0 ? undefined : Math.max(...hits.map(([n]) => n));
  }

  /** Every button shown now, by choice number. */
  shown(): ReadonlyMap<number, ShownButton> {
    return new Map([...this.buttons.keys()].map((n) => [n, this.button(n)!]));
  }

  /** A line of the console's own (prompts, notes). */
  write(text: string): void {
    this.out.write(text);
  }

  private forget(ts: string): void {
    for (const [n, b] of this.buttons) if (b.ts === ts) this.buttons.delete(n);
  }

  private print(head: string, body: readonly string[], indent: string): void {
    const lines = [head, ...body.map((l) => `${indent}${l}`)];
    this.out.write(`${lines.join('\n')}\n`);
  }

  /** Block Kit as lines of text; buttons become choices (remembered under `ts` when given). */
  private render(message: ChatMessage, ts?: string): string[] {
    const blocks = (message.blocks ?? []) as readonly Block[];
    if (blocks.length === 0) return plainMrkdwn(message.text).split('\n');
    const lines: string[] = [];
    for (const b of blocks) {
      switch (b.type) {
        case 'header':
          lines.push(`== ${str((b.text as Text | undefined)?.text)} ==`);
          break;
        case 'section': {
          const text = str((b.text as Text | undefined)?.text);
          if (text) lines.push(...plainMrkdwn(text).split('\n'));
          const fields = Array.isArray(b.fields) ? (b.fields as Text[]) : [];
          for (const f of fields) lines.push(...plainMrkdwn(str(f.text)).split('\n'));
          break;
        }
        case 'context': {
          const els = Array.isArray(b.elements) ? (b.elements as Text[]) : [];
          const text = els.map((e) => plainMrkdwn(str(e.text))).filter(Boolean);
          if (text.length > 0) lines.push(`(${text.join(' · ')})`);
          break;
        }
        case 'divider':
          lines.push('---');
          break;
        case 'actions': {
          const els = Array.isArray(b.elements) ? (b.elements as Block[]) : [];
          for (const e of els) {
            if (e.type !== 'button') continue;
            const k = ++this.choice;
            const label = str((e.text as Text | undefined)?.text);
            const shown: ShownButton = {
              actionId: str(e.action_id),
              value: str(e.value),
              label,
              ...(typeof b.block_id === 'string' && { blockId: b.block_id }),
            };
            if (ts !== undefined) this.buttons.set(k, { ...shown, ts });
            lines.push(buttonLine(k, shown));
          }
          break;
        }
        default:
          break;
      }
    }
    return lines.length > 0 ? lines : plainMrkdwn(message.text).split('\n');
  }
}
