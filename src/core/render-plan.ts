import { nameScripts, type NamedScript } from '../shell/script-names';
import type { ApprovalPolicy } from './approval-policy';
import { describeCondition } from './conditions';
import type { Action, Probe, SealedPlan, Step } from './plan';
import { planIntact } from './plan';
import { describeAction, describeProbe, duration, indent, showJson, sortedEntries } from './render-action';

// The plan as the approvers read it: plain text (Slack mrkdwn-friendly), every step with what it
// runs, what it checks, and how it is undone. Deterministic: records are listed in key order, since
// the hash ignores key order and a plan read back from jsonb has its keys reordered.

// Those who render a plan's parts in other shapes (the thread, the run's progress) import them here.
export { describeAction, describeProbe, duration } from './render-action';

export interface RenderOptions {
  readonly policy?: ApprovalPolicy;
}

export function renderPlan(plan: SealedPlan, options: RenderOptions = {}): string {
  const out: string[] = [];
  const base = options.policy?.required ?? 1;
  out.push(
    `*Plan ${plan.runbook.id} v${plan.runbook.version}* for cluster *${plan.cluster}* (${plan.dialect})`,
  );
  out.push(`Requested by @${plan.requester} at ${plan.createdAt} · plan ${plan.hash.slice(0, 12)}`);
  if (!planIntact(plan)) out.push('WARNING: this plan does not match its hash. Do not approve it.');
  const params = sortedEntries(plan.params).map(([k, v]) => `${k}=${showJson(v)}`);
  if (params.length > 0) out.push(`Params: ${params.join(', ')}`);
  if (options.policy !== undefined) out.push(`Approval: ${describePolicy(options.policy)}`);
  if (plan.rollbackOnFailure) out.push(`This plan ${ROLLS_BACK_ON_FAILURE}`);

  out.push('', '*Targets*', '```', ...targetTable(plan), '```');

  const guards = plan.guards ?? [];
  if (guards.length > 0) {
    out.push(
      '',
      `*Re-checked before the first change* (at the start, and again on resume or retry: ${guards.length})`,
    );
    for (const g of guards) {
      const until = g.until === undefined ? '' : ` (until step ${g.until} has run)`;
      out.push(
        `- ${g.name} on ${g.target}${until}: ${describeProbe(g.probe)} gives ${describeCondition(g.expect)}`,
      );
    }
  }

  const mutating = plan.steps.filter((s) => s.mutates).length;
  out.push(
    '',
    `*Steps* (${plan.steps.length}: ${mutating} change something, ${plan.steps.length - mutating} read-only)`,
  );
  plan.steps.forEach((step, i) => out.push('', ...renderStep(step, i, base)));
  out.push(...wrapperLegend(wrappersIn(plan)));
  return `${out.map(redact).join('\n')}\n`;
}

function renderStep(step: Step, index: number, base: number): string[] {
  const kind = step.mutates ? 'mutates' : 'read-only';
  const lines = [
    `${index + 1}. *${step.title}* [${step.id}] on ${step.target} · ${kind} · timeout ${duration(step.timeoutMs)}`,
  ];
  const body: string[] = [];
  if (step.approvals !== undefined && step.approvals > base)
    body.push(`!! needs ${step.approvals} approvals before it starts (the plan itself needs ${base})`);
  if (step.note !== undefined) body.push(`why: ${step.note}`);
  if (step.stallMs !== undefined) body.push(`fails if it makes no progress for ${duration(step.stallMs)}`);
  body.push(...describeAction(step.action));
  if (step.undo !== null) {
    if (step.undo.length === 0) body.push('undo: nothing to undo');
    else {
      body.push('undo:');
      for (const a of step.undo) body.push(...bullet(describeAction(a)));
    }
  }
  if (step.effect !== undefined)
    body.push(
      `done when: ${describeProbe(step.effect.probe)} gives ${describeCondition(step.effect.present)}`,
    );
  if (step.idempotent) body.push(IDEMPOTENT_LINE);
  return [...lines, ...indent(body, '   ')];
}

/** What a plan that rolls back on its own says (the inventory's autoRollback cannot turn that off). */
export const ROLLS_BACK_ON_FAILURE =
  "rolls back automatically on failure (newest step first), even where the cluster's settings leave that to an operator";

/** How a plan shows a step that is run again after a crash instead of probed. */
export const IDEMPOTENT_LINE = 'after a crash: run again (running it twice does no harm)';

function targetTable(plan: SealedPlan): string[] {
  const rows = [
    ['name', 'host', 'ssh', 'sql', 'database'],
    ...sortedEntries(plan.targets).map(([, t]) => [
      t.name,
      t.host,
      String(t.sshPort),
      String(t.sqlPort),
      t.database ?? '-',
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

function describePolicy(p: ApprovalPolicy): string {
  const who = [...p.approvers.users.map((u) => `@${u}`), ...p.approvers.groups.map((g) => `members of ${g}`)];
  const self = p.allowSelfApproval ? 'the requester may approve' : 'the requester may not approve';
  const ttl = Number.isFinite(p.ttlMs) ? `expires ${duration(p.ttlMs)} after planning` : 'no deadline';
  return `${p.required} approval${p.required === 1 ? '' : 's'} from ${orList(who)} · ${self} · ${ttl}`;
}

function orList(items: readonly string[]): string {
  if (items.length === 0) return 'nobody';
  return items.length === 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1) ?? ''}`;
}

/** The kbops wrappers a plan's commands use (steps, undos, probes and guards), in order of use. */
export function wrappersIn(plan: SealedPlan): NamedScript[] {
  const used: NamedScript[] = [];
  const note = (argv: readonly string[]) => {
    for (const w of nameScripts(argv).used) if (!used.includes(w)) used.push(w);
  };
  const probe = (p: Probe) => p.kind === 'ssh' && note(p.argv);
  const action = (a: Action) => {
    if (a.kind === 'ssh') note(a.argv);
    if (a.kind === 'wait-until' || a.kind === 'verify') probe(a.probe);
    if (a.kind === 'verdict') for (const c of a.checks) if (c.kind === 'probe') probe(c.probe);
  };
  for (const g of plan.guards ?? []) probe(g.probe);
  for (const step of plan.steps) {
    action(step.action);
    step.undo?.forEach(action);
    if (step.effect) probe(step.effect.probe);
  }
  return used;
}

/** What each wrapper does and its exact text, for the end of a plan. */
export function wrapperLegend(used: readonly NamedScript[]): string[] {
  if (used.length === 0) return [];
  return [
    '',
    `*kbops wrappers* (kbops:NAME args… stands for sh -c '<text>' sh args…; the arguments reach the text as data, never as shell code)`,
    ...used.flatMap((w) => [`- kbops:${w.name}: ${w.about}`, `  text: ${w.text}`]),
  ];
}

// Secrets belong on stdin, never in a plan; should one slip into a file or command, approvers and the
// Slack channel still do not see it (e.g. `password=` inside recovery.conf's primary_conninfo).
const redact = (line: string): string =>
  line.replace(/(password\s*=\s*)('[^']*'|"[^"]*"|[^\s'"]+)/gi, '$1***');

function bullet(lines: readonly string[]): string[] {
  return lines.map((l, i) => (i === 0 ? `- ${l}` : `  ${l}`));
}
