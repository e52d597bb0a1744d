import type { SealedPlan } from '../../../src/core/plan';
import {
  FOLLOW_UP_ACTION,
  followUpMessage,
  followUpValue,
  readFollowUpValue,
  type FollowUpOffer,
} from '../../../src/render/follow-up-message';
import { expectGolden, expectWithinLimits, runOf, shownText, writeupFixture } from './render-fixture';

// The offers posted in a run's thread when it ends: one button per offer, each value a request that
// its handler reads back and checks again, never more than a button can carry.

let plan: SealedPlan;
beforeAll(async () => {
  ({ plan } = await writeupFixture());
});

const failover: FollowUpOffer = {
  runbook: 'failover-test',
  label: 'Plan a failover test',
  values: { cluster: 'ESHA', target: 'srv159' },
  command: '/kingbase failover-test ESHA srv159',
};
const note: FollowUpOffer = {
  runbook: 'leave-note',
  label: 'Leave a note about it, with a label far over thirty characters',
  values: { cluster: 'ESHA', node: 'srv159', note: 'after <add-node> & more' },
  command: '/kingbase leave-note ESHA srv159 note=after <add-node> & more',
};

const buttons = (m: { blocks: readonly unknown[] }) =>
  (
    m.blocks as Array<{
      type: string;
      elements?: Array<{ action_id: string; value: string; text: { text: string } }>;
    }>
  )
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? []);

describe('followUpMessage', () => {
  it('offers one button per offer, with the typed form of each (golden)', () => {
    const m = followUpMessage({
      run: runOf(plan, 'succeeded'),
      state: 'succeeded',
      offers: [failover, note],
    });
    if (!m) throw new Error('no message');
    expectGolden('follow-up-offers', m);
    expectWithinLimits(m);
    expect(buttons(m).map((b) => [b.action_id, b.text.text])).toEqual([
      [FOLLOW_UP_ACTION, 'Plan a failover test'],
      [FOLLOW_UP_ACTION, 'Leave a note about it, with a…'],
    ]);
    expect(shownText(m)).toContain('after &lt;add-node&gt; &amp; more');
    // Escaped where shown; the value, never shown, keeps what was offered.
    expect(JSON.stringify(m.blocks.filter((b) => b.type === 'section'))).not.toContain('<add-node>');
  });

  it('puts the runbook, the run it follows and the values in each value, and reads them back', () => {
    const m = followUpMessage({ run: runOf(plan, 'succeeded'), state: 'succeeded', offers: [failover] });
    const value = buttons(m!)[0]!.value;
    expect(value).toBe(
      '{"runbook":"failover-test","from":"run_7f3a9c2e","values":{"cluster":"ESHA","target":"srv159"}}',
    );
    expect(readFollowUpValue(value)).toEqual({
      runbook: 'failover-test',
      from: 'run_7f3a9c2e',
      values: { cluster: 'ESHA', target: 'srv159' },
    });
  });

  it('leaves out an offer whose value would not fit a button, and says so; none left: no message', () => {
    const big: FollowUpOffer = { ...failover, values: { cluster: 'ESHA', target: 'x'.repeat(2000) } };
    const m = followUpMessage({ run: runOf(plan, 'failed'), state: 'failed', offers: [big, failover] });
    expect(buttons(m!).map((b) => b.text.text)).toEqual(['Plan a failover test']);
    expect(shownText(m!)).toContain('1 more offer left out: too large for a button');
    expect(followUpValue('R1', big).length).toBeGreaterThan(2000);
    expect(followUpMessage({ run: runOf(plan, 'failed'), state: 'failed', offers: [big] })).toBeNull();
    expect(followUpMessage({ run: runOf(plan, 'failed'), state: 'failed', offers: [] })).toBeNull();
  });

  it('keeps every button within the message whatever is offered', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({
      ...failover,
      label: `offer ${i}`,
      values: { cluster: 'ESHA', target: `${i}`.repeat(900) },
    }));
    const m = followUpMessage({ run: runOf(plan, 'succeeded'), state: 'succeeded', offers: many })!;
    expectWithinLimits(m);
    expect(buttons(m).length).toBeGreaterThan(1);
    expect(buttons(m).every((b) => readFollowUpValue(b.value) !== null)).toBe(true);
  });
});

describe('readFollowUpValue', () => {
  it.each([
    ['not JSON', 'R1'],
    ['an array', '[1,2]'],
    ['no runbook', '{"from":"R1","values":{}}'],
    ['values not an object', '{"runbook":"x","from":"R1","values":[]}'],
    ['a value that is an object', '{"runbook":"x","from":"R1","values":{"cluster":{"a":1}}}'],
    ['a value that is a list', '{"runbook":"x","from":"R1","values":{"cluster":["lab"]}}'],
    ['a value that is true', '{"runbook":"x","from":"R1","values":{"n":true}}'],
    ['too long for a button', JSON.stringify({ runbook: 'x', from: 'R1', values: { a: 'y'.repeat(2000) } })],
  ])('refuses %s', (_what, value) => {
    expect(readFollowUpValue(value)).toBeNull();
  });

  it('keeps a __proto__ key as a plain key (for the input check to refuse), never as a prototype', () => {
    const r = readFollowUpValue('{"runbook":"x","from":"R1","values":{"__proto__":"y","cluster":"lab"}}');
    expect(Object.getPrototypeOf(r!.values)).toBe(Object.prototype);
    expect(Object.keys(r!.values)).toEqual(['__proto__', 'cluster']);
  });
});
