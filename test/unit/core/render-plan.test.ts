import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApprovalPolicy } from '../../../src/core/approval-policy';
import { sealPlan, type FileEdit, type Plan, type SealedPlan } from '../../../src/core/plan';
import { describeAction, duration, renderPlan } from '../../../src/core/render-plan';
import { samplePlan, samplePlanUnsealed } from './sample-plan';

// UPDATE_GOLDEN=1 rewrites the golden file; review the diff before committing it.
const GOLDEN = join(__dirname, '../../golden/plan-render.txt');

const policy: ApprovalPolicy = {
  required: 1,
  approvers: { users: ['UALICE', 'UBOB'], groups: ['SDBA'] },
  allowSelfApproval: false,
  ttlMs: 4 * 3_600_000,
};

describe('renderPlan', () => {
  it('matches the golden rendering of the write-up expansion', () => {
    const text = renderPlan(samplePlan(), { policy });
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    expect(existsSync(GOLDEN)).toBe(true);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('is deterministic: key order in records does not matter', () => {
    const plan = samplePlanUnsealed();
    const reordered: Plan = {
      ...plan,
      params: { host: '192.168.4.159', name: 'srv159' },
      targets: Object.fromEntries(Object.entries(plan.targets).reverse()),
    };
    expect(renderPlan(sealPlan(reordered), { policy })).toBe(renderPlan(samplePlan(), { policy }));
  });

  it('shows the header, hash and each step with its target and kind', () => {
    const plan = samplePlan();
    const text = renderPlan(plan);
    expect(text).toContain(`plan ${plan.hash.slice(0, 12)}`);
    expect(text).toContain('*Plan add-node v1* for cluster *ESHA* (kingbase-v8r3)');
    expect(text).toContain(
      '1. *The data directory on srv159 is absent or empty* [check-data-dir] on srv159 · read-only',
    );
    expect(text).not.toContain('Approval:'); // no policy given
  });

  it('flags steps that need more approvals than the policy', () => {
    const text = renderPlan(samplePlan(), { policy });
    expect(text).toContain('!! needs 2 approvals before it starts (the plan itself needs 1)');
    expect(renderPlan(samplePlan(), { policy: { ...policy, required: 2 } })).not.toContain('!! needs');
  });

  it('warns when the plan was changed after sealing', () => {
    const plan: SealedPlan = { ...samplePlan(), cluster: 'OTHER' };
    expect(renderPlan(plan)).toContain('WARNING: this plan does not match its hash. Do not approve it.');
    expect(renderPlan(samplePlan())).not.toContain('WARNING');
  });

  it('shell-quotes only the words that need it', () => {
    expect(describeAction({ kind: 'ssh', argv: ['grep', '-c', 'a|b', "it's", '', '/x/y.conf'] })).toEqual([
      `run: grep -c 'a|b' 'it'\\''s' '' /x/y.conf`,
    ]);
  });

  it('masks passwords that slipped into a plan', () => {
    const plan = samplePlanUnsealed();
    const leaky: Plan = {
      ...plan,
      steps: [
        {
          id: 'x',
          title: 'leaky',
          target: 'srv159',
          action: {
            kind: 'file-edit',
            path: '/d/recovery.conf',
            expectedSha256: null,
            edit: { type: 'replace', content: "primary_conninfo='host=a password=MTIzNDU2 user=SYSTEM'\n" },
          },
          timeoutMs: 1000,
          mutates: false,
          undo: null,
        },
        {
          id: 'y',
          title: 'env',
          target: 'srv159',
          action: { kind: 'ssh', argv: ['env', 'PGPASSWORD=secret', 'psql'] },
          timeoutMs: 1000,
          mutates: false,
          undo: null,
        },
      ],
    };
    const text = renderPlan(sealPlan(leaky));
    expect(text).toContain("| primary_conninfo='host=a password=*** user=SYSTEM'");
    expect(text).toContain('run: env PGPASSWORD=*** psql');
    expect(text).not.toMatch(/MTIzNDU2|secret/);
  });

  it('describes every file edit type', () => {
    const edit = (e: FileEdit): string[] =>
      describeAction({ kind: 'file-edit', path: '/f', expectedSha256: null, edit: e }).slice(1);
    expect(edit({ type: 'unset-keys', keys: ['a', 'b'] })).toEqual(['  unset a', '  unset b']);
    expect(edit({ type: 'remove-lines', lines: ['host all x'] })).toEqual(['  - host all x']);
    expect(edit({ type: 'shell-array-remove', name: 'KB_ALL_IP', values: ['1.2.3.4'] })).toEqual([
      '  remove from KB_ALL_IP=( … ): 1.2.3.4',
    ]);
    expect(edit({ type: 'shell-var-set', name: 'KB_LOCALHOST_IP', value: '1.2.3.4' })).toEqual([
      '  set KB_LOCALHOST_IP="1.2.3.4"',
    ]);
    expect(edit({ type: 'replace', content: '' })).toEqual(['  replace the whole file with (0 lines):']);
    expect(edit({ type: 'replace', content: 'a\r\nb' })).toEqual([
      '  replace the whole file with (2 lines):',
      '  | a',
      '  | b',
    ]);
  });

  it('formats durations', () => {
    expect([500, 1500, 30_000, 90_000, 3_600_000, 5_400_000, 7_200_000, Infinity].map(duration)).toEqual([
      '500ms',
      '1.5s',
      '30s',
      '1m30s',
      '1h',
      '1h30m',
      '2h',
      'forever',
    ]);
  });
});
