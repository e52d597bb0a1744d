import { LineSplitter } from '../../../src/adapters/line-splitter';

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
});
