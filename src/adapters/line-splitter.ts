import { StringDecoder } from 'node:string_decoder';

/** Re-joins lines split across SSH chunks (and UTF-8 characters split across chunks). */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private tail = '';

  constructor(private readonly onLine: (line: string, newline: '\n' | '') => void) {}

  push(chunk: Buffer): void {
    const text = this.decoder.write(chunk);
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = this.tail + text.slice(start, nl);
      this.tail = '';
      start = nl + 1;
      this.onLine(line, '\n');
    }
    this.tail += text.slice(start);
  }

  end(): void {
    const rest = this.tail + this.decoder.end();
    this.tail = '';
    if (rest !== '') this.onLine(rest, '');
  }
}
