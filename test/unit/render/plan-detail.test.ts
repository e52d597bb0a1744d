import { sealPlan, type SealedPlan, type Step } from '../../../src/core/plan';
import { renderPlan } from '../../../src/core/render-plan';
import {
  MAX_PLAN_MESSAGES,
  planAsFile,
  planDetailMessages,
  planNeedsFile,
} from '../../../src/render/plan-detail';
import {
  expectGolden,
  expectWithinLimits,
  shownText,
  writeupFixture,
  WRITEUP_SUBJECT,
} from './render-fixture';

let plan: SealedPlan;
beforeAll(async () => {
  ({ plan } = await writeupFixture());
});

/** The plan with its steps repeated `times` (ids made unique), re-sealed. */
function longPlan(times: number, extra: Step[] = []): SealedPlan {
  const { hash: _hash, ...rest } = plan;
  const steps = Array.from({ length: times }, (_, n) =>
    plan.steps.map((s) => ({ ...s, id: `${s.id}-${n}` })),
  ).flat();
  return sealPlan({ ...rest, steps: [...steps, ...extra] });
}

describe('planDetailMessages', () => {
  it('shows every step of the write-up plan with its action and undo, in three messages (golden)', () => {
    const messages = planDetailMessages(plan, { subject: WRITEUP_SUBJECT });
    expectGolden('plan-detail-writeup', messages);
    expect(messages).toHaveLength(3);
    messages.forEach(expectWithinLimits);
    const all = messages.map(shownText).join('\n');
    plan.steps.forEach((s, i) =>
      expect(all).toContain(`*${i + 1}. ${s.title.replace(/'/g, "'")}* · \`${s.id}\``),
    );
    expect(all).toContain('undo:');
    expect(all).toContain('restore /home/kingbase/cluster/ESHA/db/data/sys_hba.conf');
    expect(messages[2]?.text).toMatch(
      /^Full plan [0-9a-f]{12} for add srv159 \(192\.168\.4\.159\) to ESHA, part 3 of 3: steps \d+–32 of 32$/,
    );
    // The wrappers' names are explained where they are used; their text is in the plan file.
    expect(all).toContain('`kbops:make-owned-dir`: makes the directory (refused if it exists)');
  });

  it('shows the exact commands, escaped, hiding a password= value as renderPlan does', () => {
    const tricky: Step = {
      id: 'tricky',
      title: 'a <b> & c',
      target: 'srv127',
      action: { kind: 'ssh', argv: ['sh', '-c', 'psql "password=Zq7-pw" > /tmp/x 2>&1'] },
      timeoutMs: 1000,
      mutates: false,
      undo: null,
    };
    const all = planDetailMessages(longPlan(1, [tricky]))
      .map(shownText)
      .join('\n');
    expect(all).not.toContain('Zq7-pw');
    expect(all).toContain('psql \\"password=***\\" &gt; /tmp/x');
    expect(all).toContain('user=SYSTEM password=*** application_name=srv159'); // recovery.conf's conninfo
    expect(all).toContain("env 'KBOPS_SECRET_VARS=KINGBASE_PASSWORD PGPASSWORD' kbops:secret-env");
    expect(all).toContain('*33. a &lt;b&gt; &amp; c*');
    expect(all).toContain('/tmp/x 2&gt;&amp;1');
  });

  it('splits a step too long for one section into continued sections, losing no line', () => {
    const lines = Array.from({ length: 400 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    const big: Step = {
      id: 'big-file',
      title: 'write a big file',
      target: 'srv159',
      action: {
        kind: 'file-edit',
        path: '/tmp/big.conf',
        expectedSha256: null,
        edit: { type: 'replace', content: `${lines.join('\n')}\n` },
      },
      timeoutMs: 1000,
      mutates: true,
      undo: [{ kind: 'file-restore', path: '/tmp/big.conf', editStepId: 'big-file' }],
      effect: { probe: { kind: 'file', path: '/tmp/big.conf' }, present: { kind: 'file-sha', sha256: null } },
    };
    const huge: Step = {
      ...big,
      id: 'huge-sql',
      title: 'one very long SQL line',
      action: { kind: 'sql', sql: `select ${'1 + '.repeat(4000)}1`, params: [] },
      mutates: false,
      undo: null,
      effect: undefined,
    };
    const messages = planDetailMessages(longPlan(1, [big, huge]));
    messages.forEach(expectWithinLimits);
    const all = messages.map(shownText).join('\n');
    for (const l of lines) expect(all).toContain(`| ${l}\\n`);
    const n = plan.steps.length; // big and huge come right after the plan's own steps
    expect(all).toContain(`_(${n + 1}. continued)_`);
    expect(all).toContain(`_(${n + 2}. continued)_`);
    const { hash: _h, ...rest } = plan;
    const onlyHuge = planDetailMessages(sealPlan({ ...rest, steps: [huge] }))
      .map(shownText)
      .join('');
    expect(onlyHuge.split('+').length - 1).toBe(4000);
  });
});

describe('planNeedsFile and planAsFile', () => {
  it('keeps the write-up plan in the thread', () => {
    expect(planNeedsFile(plan)).toBe(false);
  });

  it('sends a plan longer than three messages as the whole renderPlan text (golden message)', () => {
    const long = longPlan(3);
    expect(planDetailMessages(long).length).toBeGreaterThan(MAX_PLAN_MESSAGES);
    expect(planNeedsFile(long)).toBe(true);
    const file = planAsFile(long, { subject: WRITEUP_SUBJECT });
    expect(file.content).toBe(renderPlan(long));
    expect(file.filename).toBe(`kbops-plan-add-node-ESHA-${long.hash.slice(0, 12)}.txt`);
    expectGolden('plan-as-file', { filename: file.filename, title: file.title, message: file.message });
    expectWithinLimits(file.message);
  });
});
