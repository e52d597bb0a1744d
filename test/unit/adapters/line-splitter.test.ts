import { LineSplitter, MAX_LINE } from '../../../src/adapters/line-splitter';
import { TailBuffer } from '../../../src/adapters/ssh-exec-run';

function collect(chunks: Buffer[]): Array<[string, string]> {
  const lines: Array<[string, string]> = [];
  const s = new LineSplitter((line, nl) => lines.push([line, nl]));
  chunks.forEach((c) => s.push(c));
  s.end();
  return lines;
}

describe('LineSplitter', () => {
  it('re-joins lines split across chunks and keeps the unterminated tail', () => {
    const lines = collect(['ab', 'c\nde', 'f\n\ng', 'h'].map((s) => Buffer.from(s)));
    expect(lines).toEqual([
      ['abc', '\n'],
      ['def', '\n'],
      ['', '\n'],
      ['gh', ''],
    ]);
  });

  it('re-joins UTF-8 characters split across chunks', () => {
    const bytes = Buffer.from('日本\n🐘\n');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    expect(collect(chunks)).toEqual([
      ['日本', '\n'],
      ['🐘', '\n'],
    ]);
  });

  it('emits nothing for empty input and no phantom line after a final newline', () => {
    expect(collect([])).toEqual([]);
    expect(collect([Buffer.from('x\n')])).toEqual([['x', '\n']]);
  });

  it('cuts a line longer than the limit once, flags it, and drops the rest of it unread', () => {
    const lines: Array<[string, string, boolean]> = [];
    const s = new LineSplitter((line, nl, cut) => lines.push([line, nl, cut]), 10);
    s.push(Buffer.from('short\n0123456'));
    s.push(Buffer.from('789abcdef'));
    for (let i = 0; i < 1000; i++) s.push(Buffer.from('x'.repeat(100)));
    s.push(Buffer.from('tail\nnext\n'));
    s.end();
    expect(lines).toEqual([
      ['short', '\n', false],
      ['0123456789', '', true],
      ['next', '\n', false],
    ]);
  });

  it('bounds every line of a 20 MB stream without a newline, the default limit being 8 KiB', () => {
    let longest = 0;
    let count = 0;
    const s = new LineSplitter((line) => {
      longest = Math.max(longest, line.length);
      count++;
    });
    const chunk = Buffer.alloc(32 * 1024, 'x');
    for (let i = 0; i < 640; i++) s.push(chunk);
    s.end();
    expect(MAX_LINE).toBe(8192);
    expect(longest).toBe(MAX_LINE);
    expect(count).toBe(1);
  });

  it('never cuts a UTF-16 surrogate pair in half', () => {
    const lines: string[] = [];
    const s = new LineSplitter((line) => lines.push(line), 4);
    s.push(Buffer.from('abc🐘def\n'));
    s.end();
    expect(lines).toEqual(['abc']);
  });
});

describe('TailBuffer', () => {
  it('keeps the last cap characters and counts what it dropped', () => {
    const b = new TailBuffer(8);
    for (const part of ['abc', 'defgh', 'ijklmnop', 'q']) b.push(part);
    expect(b.text()).toBe('jklmnopq');
    expect(b.dropped).toBe(9);
    const small = new TailBuffer(100);
    small.push('all of it');
    expect([small.text(), small.dropped]).toEqual(['all of it', 0]);
  });

  it('holds at most twice its cap however much is pushed', () => {
    const b = new TailBuffer(1024);
    for (let i = 0; i < 100_000; i++) b.push(`line ${i}\n`);
    expect(b.text().length).toBe(1024);
    expect(b.text().endsWith('line 99999\n')).toBe(true);
    expect((b as unknown as { size: number }).size).toBeLessThanOrEqual(2048);
  });
});
