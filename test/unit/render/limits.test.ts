import {
  chunkLines,
  cutAt,
  fitBlocks,
  fitMessage,
  SLACK_LIMITS,
  splitLine,
  truncateText,
} from '../../../src/render/limits';
import { messageProblems } from '../../../src/render/message-problems';
import { actions, button, header, section, type KnownBlock } from '../../../src/render/slack-message';

/** A deterministic pseudo-random generator (mulberry32), so property cases are reproducible. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['word', ' ', '\n', '&amp;', '&lt;', '<@U123>', '```', '😀', 'x'.repeat(40), '\n\n', '*b*'];
function randomText(next: () => number, length: number): string {
  let s = '';
  while (s.length < length) s += PIECES[Math.floor(next() * PIECES.length)];
  return s;
}

describe('cutAt', () => {
  it('never splits a surrogate pair, an entity or a <…> token', () => {
    expect(cutAt('ab😀', 3)).toBe('ab');
    expect(cutAt('a &amp; b', 4)).toBe('a ');
    expect(cutAt('a &amp; b', 7)).toBe('a &amp;');
    expect(cutAt('hi <@U123> there', 8)).toBe('hi ');
    expect(cutAt('short', 10)).toBe('short');
  });
});

describe('truncateText', () => {
  it('leaves text within the limit alone', () => {
    expect(truncateText('a\nb', 3)).toBe('a\nb');
  });

  it('cuts on a line boundary and says so with "…"', () => {
    const text = ['first line', 'second line', 'third line that is long'].join('\n');
    expect(truncateText(text, 30)).toBe('first line\nsecond line\n…');
  });

  it('keeps a piece of a line when whole lines would waste the room', () => {
    expect(truncateText('x'.repeat(100), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(truncateText(`short\n${'y'.repeat(100)}`, 40)).toBe(`short\n${'y'.repeat(33)}…`);
  });

  it('closes a code block it cut open', () => {
    const text = ['*Step*', '```', ...Array.from({ length: 50 }, (_, i) => `line ${i}`), '```'].join('\n');
    const cut = truncateText(text, 100);
    expect(cut.length).toBeLessThanOrEqual(100);
    expect(cut.split('```').length - 1).toBe(2);
    expect(cut.endsWith('```\n…')).toBe(true);
  });

  it('never exceeds the limit, whatever the text (property)', () => {
    const next = rng(7);
    for (let i = 0; i < 300; i++) {
      const text = randomText(next, Math.floor(next() * 5000));
      const max = 1 + Math.floor(next() * 3000);
      const cut = truncateText(text, max);
      expect(cut.length).toBeLessThanOrEqual(max);
      if (text.length > max && max > 8) expect(cut).toContain('…');
      if (cut !== text && max > 10) expect((cut.split('```').length - 1) % 2).toBe(0);
    }
  });
});

describe('splitLine and chunkLines', () => {
  it('splits a long line into pieces that join back to it', () => {
    const line = 'a&amp;b'.repeat(100);
    const pieces = splitLine(line, 50);
    expect(pieces.join('')).toBe(line);
    expect(pieces.every((p) => p.length <= 50 && p.length > 0)).toBe(true);
  });

  it('groups lines into fenced chunks within the limit, losing nothing', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `${i}: ${'z'.repeat(i % 70)}`);
    const chunks = chunkLines(lines, 3000, true);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) {
      expect(c.length).toBeLessThanOrEqual(3000);
      expect(c.startsWith('```\n') && c.endsWith('\n```')).toBe(true);
    }
    expect(chunks.map((c) => c.slice(4, -4)).join('\n')).toBe(lines.join('\n'));
  });

  it('breaks up a ``` inside a fenced line and drops empty chunks', () => {
    expect(chunkLines(['a ``` b'], 100, true)).toEqual(['```\na `\u200b`` b\n```']);
    expect(chunkLines(['', '  '], 100)).toEqual([]);
  });
});

describe('fitBlocks', () => {
  const many = (n: number): KnownBlock[] => Array.from({ length: n }, (_, i) => section(`block ${i}`));
  const ok = button({ text: 'OK', actionId: 'run.approve', value: 'r1' });

  it('keeps at most 50 blocks, the last saying how many more', () => {
    const out = fitBlocks(many(80));
    expect(out).toHaveLength(50);
    expect(out.at(-1)).toEqual({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: '… 31 more, see the full plan' }],
    });
    expect(out[48]).toEqual(section('block 48'));
  });

  it('keeps the buttons when blocks must go, the notice standing where the content stops', () => {
    const out = fitBlocks([...many(60), actions([ok])]);
    expect(out).toHaveLength(50);
    expect(out.at(-1)?.type).toBe('actions');
    expect(out.at(-2)).toMatchObject({ elements: [{ text: '… 12 more, see the full plan' }] });
  });

  it('drops blocks until the JSON fits the budget', () => {
    const big = Array.from({ length: 10 }, (_, i) => section(`${i}${'q'.repeat(2990)}`));
    const out = fitBlocks(big, { more: (n) => `${n} left out` });
    expect(JSON.stringify(out).length).toBeLessThanOrEqual(SLACK_LIMITS.messageJson);
    expect(out.at(-1)).toMatchObject({ elements: [{ text: '7 left out' }] });
  });

  it('cuts every text to its limit and splits a section of more than 10 fields', () => {
    const blocks: KnownBlock[] = [
      header('h'.repeat(500)),
      section('s'.repeat(5000)),
      {
        type: 'section',
        fields: Array.from({ length: 23 }, () => ({ type: 'mrkdwn' as const, text: 'f'.repeat(2500) })),
      },
      actions([
        button({
          text: 'b'.repeat(100),
          actionId: 'a'.repeat(300),
          value: 'v'.repeat(3000),
          confirm: {
            title: 't'.repeat(200),
            text: 'x'.repeat(500),
            confirm: 'c'.repeat(40),
            deny: 'd'.repeat(40),
          },
        }),
      ]),
    ];
    const out = fitBlocks(blocks, { maxJson: Infinity });
    expect(out.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'section', 'actions']);
    expect(messageProblems({ text: 'x', blocks: out }).filter((p) => !p.startsWith('message JSON'))).toEqual(
      [],
    );
    expect(messageProblems({ text: 'x', blocks: fitBlocks(blocks) })).toEqual([]);
  });
});

describe('fitMessage', () => {
  it('keeps the whole message, fallback text included, within 12,000 characters of JSON', () => {
    const message = fitMessage({
      text: 't'.repeat(50_000),
      blocks: Array.from({ length: 30 }, () => section('"\n'.repeat(1400))),
    });
    expect(messageProblems(message)).toEqual([]);
    expect(message.text.length).toBeLessThanOrEqual(SLACK_LIMITS.fallbackText);
  });

  it('keeps other keys of the message and counts them', () => {
    const message = fitMessage({ response_type: 'ephemeral' as const, text: 'x', blocks: [section('y')] });
    expect(message).toEqual({ response_type: 'ephemeral', text: 'x', blocks: [section('y')] });
  });
});
