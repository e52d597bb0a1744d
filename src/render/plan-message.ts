import type { ApprovalPolicy, Tally } from '../core/approval-policy';
import { planIntact } from '../core/plan';
import type { Run } from '../core/run';
import type { Check } from '../core/check';
import { fitMessage } from './limits';
import { runActionsFor, runButtons } from './run-buttons';
import { progressBar, stateMark, statusLine, type StepProgress } from './run-progress';
import { runSubject, stateWords } from './run-text';
import { context, header, section, type KnownBlock, type SlackMessage } from './slack-message';
import { code, esc, freeText, MARK, mention, plural, shortHash, slackDate } from './slack-text';

// The root of a run's thread, edited in place as the run moves on: what is asked, by whom, the
// preflight, the votes, the plan hash the votes bind to, and only the buttons the state allows.

export interface PlanRootInput {
  readonly run: Run;
  readonly preflight: readonly Check[];
  /** Votes on the current plan; null when none were counted. */
  readonly tally: Tally | null;
  /** Who may approve, how many must, until when (e.g. from the approval policy). */
  readonly policyText?: string;
  readonly now: Date;
  /** The running step's latest progress. */
  readonly progress?: StepProgress;
}

/** Failures and warnings beyond these would not fit in the root message anyway. */
const MAX_FLAGGED = 40;

/** "1 of 2 approved by <@U1>", "rejected by <@U2>", "0 of 1 approved". */
export function approvalsText(tally: Tally | null): string {
  if (tally === null) return 'no votes yet';
  if (tally.rejectedBy !== undefined) return `rejected by ${mention(tally.rejectedBy)}`;
  const by = tally.count > 0 ? ` by ${tally.approvers.map(mention).join(', ')}` : '';
  return `${tally.count} of ${tally.needed} approved${by}`;
}

/**
 * "needs 2 approvals (the requester cannot approve)": what the run's effective policy (the
 * inventory's, raised by what the plan demands) asks of its approvers, for the root's policyText.
 */
export function approvalDemandText(policy: Pick<ApprovalPolicy, 'required' | 'allowSelfApproval'>): string {
  const needs = `needs ${plural(policy.required, 'approval')}`;
  return policy.allowSelfApproval ? needs : `${needs} (the requester cannot approve)`;
}

/** Preflight in a few lines: failures and warnings each with their hint, passes by name only. */
export function preflightText(checks: readonly Check[]): string {
  if (checks.length === 0) return '*Preflight:* no checks recorded';
  const count = (s: Check['status']): number => checks.filter((c) => c.status === s).length;
  const lines = [`*Preflight:* ${count('pass')} pass · ${count('warn')} warn · ${count('fail')} fail`];
  const flagged = [
    ...checks.filter((x) => x.status === 'fail'),
    ...checks.filter((x) => x.status === 'warn'),
  ];
  for (const c of flagged.slice(0, MAX_FLAGGED)) {
    lines.push(`${MARK[c.status]} *${esc(c.name)}*: ${freeText(c.message)}`);
    if (c.hint !== undefined) lines.push(`      → ${freeText(c.hint)}`);
  }
  if (flagged.length > MAX_FLAGGED)
    lines.push(`_… ${flagged.length - MAX_FLAGGED} more failures and warnings_`);
  const passed = checks.filter((c) => c.status === 'pass').map((c) => esc(c.name));
  if (passed.length > 0) lines.push(`${MARK.pass} ${passed.join(', ')}`);
  return lines.join('\n');
}

function summaryText(run: Run): string {
  const p = run.plan;
  const subject = esc(runSubject(run));
  const params = Object.keys(p.params)
    .sort()
    .filter((k) => !['host', 'name', 'cluster'].includes(k))
    .filter((k) => !(Array.isArray(p.params[k]) && (p.params[k] as unknown[]).length === 0))
    .map((k) => code(`${k}=${JSON.stringify(p.params[k])}`));
  return [
    `${subject.charAt(0).toUpperCase()}${subject.slice(1)} · requested by ${mention(run.requester)}`,
    ...(params.length > 0 ? [params.join(' ')] : []),
  ].join('\n');
}

/** The thread's root message for a run, in whatever state it is. */
export function planRootMessage(input: PlanRootInput): SlackMessage {
  const { run, preflight, tally, now } = input;
  const plan = run.plan;
  const mutating = plan.steps.filter((s) => s.mutates).length;
  const blocks: KnownBlock[] = [
    header(`${plan.runbook.id} · ${plan.cluster}`),
    section(summaryText(run)),
    context(
      `${stateMark(run.state)} ${statusLine(run, now, input.progress)}`,
      ...(run.state === 'running' && input.progress?.percent !== undefined
        ? [`\`${progressBar(input.progress.percent)}\``]
        : []),
    ),
  ];
  const intact = planIntact(plan);
  if (!intact) blocks.push(section(`${MARK.alarm} *This plan does not match its hash. Do not approve it.*`));
  blocks.push(section(preflightText(preflight)));
  const votes = [`*Approvals:* ${approvalsText(tally)}`];
  if (input.policyText !== undefined && input.policyText !== '')
    votes.push(`_${freeText(input.policyText)}_`);
  blocks.push(section(votes.join('\n')));
  blocks.push(
    context(
      [
        // The run id is what `/kingbase show|cancel|rollback <run>` take.
        `run ${code(run.id)}`,
        `plan ${code(shortHash(plan.hash))}`,
        `${plan.runbook.id} v${plan.runbook.version} (${esc(plan.dialect)})`,
        `${plural(plan.steps.length, 'step')}, ${mutating} change something`,
        `planned ${slackDate(plan.createdAt)}`,
        'full plan in the thread',
      ].join(' · '),
    ),
  );
  const buttons = runButtons(run, runActionsFor(run, intact));
  if (buttons !== null) blocks.push(buttons);
  return fitMessage({
    text: `${esc(runSubject(run))}, requested by ${mention(run.requester)}: ${stateWords(run.state)} (${approvalsText(tally)})`,
    blocks,
  });
}
