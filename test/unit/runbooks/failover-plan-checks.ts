import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Action, SealedPlan, Step } from '../../../src/core/plan';
import { parsePlan, planProblems } from '../../../src/core/plan-schema';
import { renderPlan } from '../../../src/core/render-plan';
import type { Dialect } from '../../../src/dialects/dialect';
import type { FailoverFacts } from '../../../src/runbooks/failover-test/failover-facts';
import type { FailoverParams } from '../../../src/runbooks/failover-test/failover-params';
import { failoverTestRunbook } from '../../../src/runbooks/failover-test/failover-runbook';
import { stdinSecretToPcpPass } from '../../../src/shell/shell-command';

// What the failover plan tests share: the golden comparison (as add-node's: UPDATE_GOLDEN=1
// rewrites the file; review the diff before committing it), planning through the runbook, and the
// invariants every failover plan keeps whatever its golden says.

export const REQUESTER = 'U_REQ';

/** renderPlan(plan) equals test/golden/<name>.txt; UPDATE_GOLDEN=1 writes it first. */
export function expectGoldenPlan(plan: SealedPlan, name: string): void {
  const golden = join(__dirname, '..', '..', 'golden', `${name}.txt`);
  const text = renderPlan(plan);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, text);
  expect(existsSync(golden)).toBe(true);
  expect(text).toBe(readFileSync(golden, 'utf8'));
}

/** The runbook's own plan function (it picks the drill or the restore by phase). */
export const planFailover = (
  params: FailoverParams,
  facts: FailoverFacts,
  dialect: Dialect,
  now: Date,
): SealedPlan =>
  failoverTestRunbook.plan({ params, facts, dialect, requester: REQUESTER, now }) as SealedPlan;

export function stepOf(plan: SealedPlan, id: string): Step {
  const s = plan.steps.find((x) => x.id === id);
  if (!s) throw new Error(`no step ${id} in ${plan.steps.map((x) => x.id).join(', ')}`);
  return s;
}

export const argvOf = (a: Action): readonly string[] => {
  if (a.kind !== 'ssh') throw new Error(`expected an ssh action, got ${a.kind}`);
  return a.argv;
};

export const editOf = (s: Step): Extract<Action, { kind: 'file-edit' }> => {
  if (s.action.kind !== 'file-edit') throw new Error(`${s.id} is not a file edit`);
  return s.action;
};

/** Every action of the plan: steps, their undos, and nothing else (verdict probes are read-only). */
export const actionsOf = (plan: SealedPlan): { step: Step; action: Action; undo: boolean }[] =>
  plan.steps.flatMap((step) => [
    { step, action: step.action, undo: false },
    ...(step.undo ?? []).map((action) => ({ step, action, undo: true })),
  ]);

/** Invariants of any failover plan (drill or restore). */
export function expectFailoverInvariants(plan: SealedPlan): void {
  // A valid plan that survives a JSON round trip (stored, hashed and approved as it is).
  expect(planProblems(plan)).toEqual([]);
  expect(parsePlan(JSON.parse(JSON.stringify(plan)))).toEqual({ ok: true, plan });
  // Two approvers, neither of them the requester.
  expect(plan.approvals).toEqual({ min: 2, requesterExcluded: true });
  expect(plan.requester).toBe(REQUESTER);
  for (const s of plan.steps) {
    if (s.mutates) {
      // Every change says how it is undone, and how its effect is seen after a crash (or runs again).
      expect({ id: s.id, undo: Array.isArray(s.undo) }).toEqual({ id: s.id, undo: true });
      expect({ id: s.id, seen: s.effect !== undefined || s.idempotent === true }).toEqual({
        id: s.id,
        seen: true,
      });
    } else {
      expect({ id: s.id, undo: s.undo }).toEqual({ id: s.id, undo: null });
      expect(['wait-until', 'verdict', 'verify']).toContain(s.action.kind);
    }
    // Every step and every `on` names a target of the plan.
    expect(Object.keys(plan.targets)).toContain(s.target);
    for (const a of [s.action, ...(s.undo ?? [])])
      if ((a.kind === 'verify' || a.kind === 'wait-until') && a.on !== undefined)
        expect(Object.keys(plan.targets)).toContain(a.on);
  }
  // The PCP password reaches the pcp tools on stdin only; no step holds any secret's value.
  for (const { action } of actionsOf(plan))
    if (action.kind === 'ssh' && action.argv.some((a) => /\/pcp_[a-z_]+$/.test(a)))
      expect(action.stdinSecret).toBe('pcp.password');
  expect(new Set(plan.steps.map((s) => s.id)).size).toBe(plan.steps.length);
}

/** The password (and its encodings) never appear in the plan or its rendering: only the token does. */
export function expectNoSecret(plan: SealedPlan, leaks: readonly string[]): void {
  const json = JSON.stringify(plan);
  const text = renderPlan(plan);
  for (const leak of leaks) {
    expect(json).not.toContain(leak);
    expect(text).not.toContain(leak);
  }
  // Every password= in the plan is the token's place.
  for (const m of json.matchAll(/password=([^ '"\\]*)/g)) expect(m[1]).toBe('@@KBOPS_DB_PASSWORD@@');
}

/**
 * `action` runs the manager's `tool` for backend `index`: over SSH, its PCP password on stdin into a
 * temporary PCPPASSFILE for `pcp` (host, port, user). Whether it attaches once or until the backend is
 * up is the runbook's business: only the tool, the backend and the password's way are pinned here.
 */
export function expectPcp(
  action: Action | undefined,
  tool: string,
  index: number,
  pcp: { binDir: string; host: string; port: number; user: string },
): void {
  if (action?.kind !== 'ssh') throw new Error(`expected an ssh action, got ${action?.kind}`);
  expect(action.stdinSecret).toBe('pcp.password');
  const prefix = stdinSecretToPcpPass(pcp.host, pcp.port, pcp.user, ['x']).slice(0, -1);
  expect(action.argv.slice(0, prefix.length)).toEqual(prefix);
  expect(action.argv).toContain(`${pcp.binDir}/${tool}`);
  expect(action.argv.at(-1)).toBe(String(index));
  expect(action.argv.join(' ')).not.toMatch(/pcp_node_refresh|pcp_promote_node/);
}
