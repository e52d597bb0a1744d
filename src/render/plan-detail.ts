import type { ApprovalPolicy } from '../core/approval-policy';
import { describeCondition } from '../core/conditions';
import { planIntact, type SealedPlan, type Step } from '../core/plan';
import {
  describeAction,
  describeProbe,
  duration,
  IDEMPOTENT_LINE,
  renderPlan,
  ROLLS_BACK_ON_FAILURE,
  wrappersIn,
} from '../core/render-plan';
import { chunkLines, fitMessage, SLACK_LIMITS, truncateText } from './limits';
import { planSubject } from './run-text';
import { context, header, section, type KnownBlock, type SlackMessage } from './slack-message';
import { code, esc, MARK, mention, plural, redactPlanText, shortHash, slackDate } from './slack-text';

// The full plan in the thread: every step with what it runs, its undo and how its effect is checked,
// split over as many messages as Slack's limits need, never cut. A plan that would take more than
// MAX_PLAN_MESSAGES goes up as a file (renderPlan's text) instead of a wall of replies.

export interface PlanDetailOptions {
  /** Shows which steps need more approvals than the plan (as renderPlan does). */
  readonly policy?: ApprovalPolicy;
  /** "add srv13 (127.0.0.13) to lab" (the run's subject); default: the runbook and the cluster. */
  readonly subject?: string;
}

export const MAX_PLAN_MESSAGES = 3;

/** Room for the blocks of one message: the whole budget less the fallback text and the keys. */
const BLOCKS_BUDGET = SLACK_LIMITS.messageJson - 600;
const HEAD_MAX = 1000;

/** A step's commands, SQL, file edits, undo and effect check, as code lines (unescaped). */
function stepCodeLines(step: Step): string[] {
  const lines = [...describeAction(step.action)];
  if (step.undo !== null) {
    if (step.undo.length === 0) lines.push('undo: nothing to undo');
    else {
      lines.push('undo:');
      for (const a of step.undo)
        lines.push(...describeAction(a).map((l, i) => `${i === 0 ? '- ' : '  '}${l}`));
    }
  }
  if (step.effect !== undefined)
    lines.push(
      `done when: ${describeProbe(step.effect.probe)} gives ${describeCondition(step.effect.present)}`,
    );
  if (step.idempotent) lines.push(IDEMPOTENT_LINE);
  return lines;
}

/** One step as sections: its heading, then its code, continued in further sections when long. */
function stepBlocks(step: Step, index: number, base: number): KnownBlock[] {
  const kind = step.mutates ? 'mutates' : 'read-only';
  const head = [
    `*${index + 1}. ${esc(step.title)}* · ${code(step.id)} on ${esc(step.target)} · ${kind} · timeout ${duration(step.timeoutMs)}`,
  ];
  if (step.approvals !== undefined && step.approvals > base)
    head.push(`:lock: needs ${step.approvals} approvals before it starts (the plan itself needs ${base})`);
  if (step.note !== undefined) head.push(`why: ${esc(redactPlanText(step.note))}`);
  const heading = truncateText(head.join('\n'), HEAD_MAX);
  const cont = `_(${index + 1}. continued)_`;
  const room = SLACK_LIMITS.sectionText - Math.max(heading.length, cont.length) - 1;
  const lines = stepCodeLines(step).map((l) => esc(redactPlanText(l)));
  const chunks = chunkLines(lines, room, true);
  if (chunks.length === 0) return [section(heading)];
  return chunks.map((c, i) => section(`${i === 0 ? heading : cont}\n${c}`));
}

function targetLines(plan: SealedPlan): string[] {
  const rows = [
    ['name', 'host', 'ssh', 'sql', 'database'],
    ...Object.keys(plan.targets)
      .sort()
      .map((k) => plan.targets[k]!)
      .map((t) => [t.name, t.host, String(t.sshPort), String(t.sqlPort), t.database ?? '-']),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

function introBlocks(plan: SealedPlan): KnownBlock[] {
  const mutating = plan.steps.filter((s) => s.mutates).length;
  const about = [
    `Plan ${code(shortHash(plan.hash))} for *${esc(plan.cluster)}* (${esc(plan.dialect)}) · requested by ${mention(plan.requester)} · planned ${slackDate(plan.createdAt)}`,
  ];
  if (!planIntact(plan)) about.push(`${MARK.alarm} *This plan does not match its hash. Do not approve it.*`);
  about.push(
    `*Steps:* ${plan.steps.length} (${mutating} change something, ${plan.steps.length - mutating} read-only), each with its undo`,
  );
  // Approvers should know the run will not wait for their decision once a step fails.
  if (plan.rollbackOnFailure) about.push(`*On failure:* ${esc(ROLLS_BACK_ON_FAILURE)}`);
  const targets = chunkLines(targetLines(plan).map(esc), SLACK_LIMITS.sectionText - 20, true);
  return [
    header(`Full plan · ${plan.runbook.id} v${plan.runbook.version} · ${plan.cluster}`),
    section(truncateText(about.join('\n'), SLACK_LIMITS.sectionText)),
    ...targets.map((t, i) => section(`${i === 0 ? '*Targets*' : '_(targets continued)_'}\n${t}`)),
  ];
}

/** What each kbops:NAME in the steps does (their exact text is in the plan file). */
function wrapperBlocks(plan: SealedPlan): KnownBlock[] {
  const used = wrappersIn(plan);
  if (used.length === 0) return [];
  const lines = used.map((w) => `${code(`kbops:${w.name}`)}: ${esc(w.about)}`);
  return [
    section(
      truncateText(
        `*kbops wrappers* (their exact text is in the plan file)\n${lines.join('\n')}`,
        SLACK_LIMITS.sectionText,
      ),
    ),
  ];
}

interface Part {
  blocks: KnownBlock[];
  size: number; // JSON length of the blocks array
  steps: number[];
  intro: boolean;
}

/** Packs units of blocks into parts within the block count and payload size, a unit kept whole when it can be. */
function pack(units: readonly { blocks: KnownBlock[]; step: number | null }[]): Part[] {
  const parts: Part[] = [];
  const fresh = (): Part => {
    const p: Part = { blocks: [], size: 2, steps: [], intro: false };
    parts.push(p);
    return p;
  };
  const fits = (p: Part, n: number, size: number): boolean =>
    p.blocks.length + n <= SLACK_LIMITS.blocksPerMessage && p.size + size <= BLOCKS_BUDGET;
  const sizeOf = (b: KnownBlock): number => JSON.stringify(b).length + 1;
  let cur = fresh();
  for (const unit of units) {
    const total = unit.blocks.reduce((a, b) => a + sizeOf(b), 0);
    if (!fits(cur, unit.blocks.length, total) && cur.blocks.length > 0) cur = fresh();
    for (const b of unit.blocks) {
      if (!fits(cur, 1, sizeOf(b)) && cur.blocks.length > 0) cur = fresh();
      cur.blocks.push(b);
      cur.size += sizeOf(b);
      if (unit.step === null) cur.intro = true;
      else if (!cur.steps.includes(unit.step)) cur.steps.push(unit.step);
    }
  }
  return parts.filter((p) => p.blocks.length > 0);
}

/** The full plan as thread replies (one or more messages, in order). */
export function planDetailMessages(plan: SealedPlan, options: PlanDetailOptions = {}): SlackMessage[] {
  const base = options.policy?.required ?? 1;
  const parts = pack([
    { blocks: introBlocks(plan), step: null },
    ...plan.steps.map((s, i) => ({ blocks: stepBlocks(s, i, base), step: i })),
    { blocks: wrapperBlocks(plan), step: plan.steps.length - 1 },
  ]);
  const about = `Full plan ${shortHash(plan.hash)} for ${esc(options.subject ?? planSubject(plan))}`;
  return parts.map((p, i) => {
    const range =
      p.steps.length === 0
        ? 'targets'
        : `${p.intro ? 'targets and ' : ''}steps ${(p.steps[0] ?? 0) + 1}–${(p.steps.at(-1) ?? 0) + 1} of ${plan.steps.length}`;
    const text =
      parts.length === 1 ? `${about}: ${range}` : `${about}, part ${i + 1} of ${parts.length}: ${range}`;
    return fitMessage({ text, blocks: p.blocks });
  });
}

/** True when the plan would take more than MAX_PLAN_MESSAGES replies: upload it as a file instead. */
export const planNeedsFile = (plan: SealedPlan, options: PlanDetailOptions = {}): boolean =>
  planDetailMessages(plan, options).length > MAX_PLAN_MESSAGES;

export interface PlanFile {
  readonly filename: string;
  readonly title: string;
  /** renderPlan's text: the whole plan, nothing cut. */
  readonly content: string;
  /** The reply that goes with the upload (e.g. as its initial comment). */
  readonly message: SlackMessage;
}

/** The full plan as a text file, with the message that introduces it. */
export function planAsFile(plan: SealedPlan, options: PlanDetailOptions = {}): PlanFile {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]+/g, '_');
  const filename = `kbops-plan-${safe(plan.runbook.id)}-${safe(plan.cluster)}-${shortHash(plan.hash)}.txt`;
  const title = `Plan ${shortHash(plan.hash)}: ${options.subject ?? planSubject(plan)}`;
  const message = fitMessage({
    text: `The full plan ${shortHash(plan.hash)} (${plural(plan.steps.length, 'step')}) is attached as ${filename}`,
    blocks: [
      section(
        `:page_facing_up: The full plan (${plural(plan.steps.length, 'step')}, each with its undo) is too long for the thread: it is attached as ${code(filename)}. Read it before you approve.`,
      ),
      context(`plan ${code(plan.hash)}`),
    ],
  });
  return { filename, title, content: renderPlan(plan, options), message };
}
