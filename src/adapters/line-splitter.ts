import { StringDecoder } from 'node:string_decoder';

/** Longest line passed on, in UTF-16 units; a remote tool printing megabytes without a newline must not grow us. */
export const MAX_LINE = 8 * 1024;

/**
 * Re-joins lines split across SSH chunks (and UTF-8 characters split across chunks). A line longer than
 * `maxLine` is passed on once, cut to `maxLine` and flagged `cut`; the rest of it, up to the next
 * newline, is dropped unread.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private tail = '';
  /** Inside a line already passed on cut: drop text until its newline. */
  private skipping = false;

  constructor(
    private readonly onLine: (line: string, newline: '\n' | '', cut: boolean) => void,
    private readonly maxLine = MAX_LINE,
  ) {}

  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = this.tail + text.slice(start, nl);
      const skipped = this.skipping;
      this.tail = '';
      this.skipping = false;
      start = nl + 1;
      if (!skipped) this.emit(line, '\n');
    }
    if (this.skipping) return;
    this.tail += text.slice(start);
    if (this.tail.length > this.maxLine) {
      this.emit(this.tail, '');
      this.tail = '';
      this.skipping = true;
    }
  }

  end(): void {
    const rest = this.tail + this.decoder.end();
    const skipped = this.skipping;
    this.tail = '';
    this.skipping = false;
    if (rest !== '' && !skipped) this.emit(rest, '');
  }

  private emit(line: string, newline: '\n' | ''): void {
    if (line.length <= this.maxLine) return this.onLine(line, newline, false);
    // Cut between UTF-16 surrogates would leave half a character.
    let end = this.maxLine;
    const code = line.charCodeAt(end - 1);
    if (code >= 0xd800 && code <= 0xdbff) end--;
    this.onLine(line.slice(0, end), newline, true);
  }
}
