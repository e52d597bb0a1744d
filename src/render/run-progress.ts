import type { Json } from '../core/json';
import { describeAction } from '../core/render-plan';
import { mutatedAnything, type Failure, type JournalEvent, type Run, type StepOutcome } from '../core/run';
import type { RunState } from '../core/run-state';
import type { CheckResult } from '../core/run';
import { chunkLines, fitMessage, SLACK_LIMITS } from './limits';
import { runButtons, runActionsFor, type RunAction } from './run-buttons';
import { completedMutating, runSubject, stepLabel, stepTitle, stateWords } from './run-text';
import { context, header, section, type KnownBlock, type SlackMessage } from './slack-message';
import { ago, code, esc, freeText, MARK, plural, redactPlanText, shortHash, span } from './slack-text';

// A run as it happens, in its thread: one reply per step started and finished, the status line the
// root message carries, the verdict card and the failure card. Free text (outputs, errors) is scrubbed.

export type StepFinishedEvent = Extract<JournalEvent, { type: 'step-finished' }>;

/** The latest step-progress of the running step, when there is one. */
export interface StepProgress {
  readonly percent?: number;
  readonly message?: string;
}

const OUTPUT_LINES = 15;
/** More checks than fit in one message are not rendered (a verdict has a handful). */
const MAX_CHECKS = 100;

const asRecord = (j: Json | undefined): Readonly<Record<string, Json>> | null =>
  j !== null && j !== undefined && typeof j === 'object' && !Array.isArray(j)
    ? (j as Readonly<Record<string, Json>>)
    : null;

/** "████████░░░░░░░░░░░░ 42%". */
export function progressBar(percent: number, width = 20): string {
  const p = Number.isFinite(percent) ? Math.min(100, Math.max(0, Math.round(percent))) : 0;
  const full = Math.round((p / 100) * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)} ${p}%`;
}

/** 850ms, 12.3s, 4m. */
export const elapsed = (ms: number): string =>
  ms < 1000 ? `${Math.max(0, Math.round(ms))}ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : span(ms);

/** An emoji for a state, for the start of a status line. */
export function stateMark(state: RunState): string {
  const marks: Record<RunState, string> = {
    awaiting_approval: MARK.wait,
    approved: MARK.pass,
    running: MARK.run,
    rolling_back: MARK.undo,
    succeeded: MARK.pass,
    failed: MARK.fail,
    interrupted: MARK.warn,
    cancelled: MARK.stop,
    rolled_back: MARK.undo,
    rollback_failed: MARK.alarm,
    rejected: MARK.stop,
    expired: MARK.stop,
  };
  return marks[state];
}

/** Where the run is, in one mrkdwn line: "running step 8/22: copy srv11 to srv13 — 42%". */
export function statusLine(run: Run, now: Date, progress?: StepProgress): string {
  const at = (i: number): string => `${stepLabel(run, i)}: ${esc(stepTitle(run, i))}`;
  const total = run.plan.steps.length;
  switch (run.state) {
    case 'awaiting_approval': {
      const paused = run.nextStep > 0 ? ` before ${at(run.nextStep)}` : '';
      if (run.expiresAt === null) return `awaiting approval${paused}`;
      const left = Date.parse(run.expiresAt) - now.getTime();
      return `awaiting approval${paused} · ${left > 0 ? `expires in ${span(left)}` : 'past its deadline'}`;
    }
    case 'approved':
      return run.nextStep > 0
        ? `approved · continues with ${at(run.nextStep)}`
        : 'approved · waiting for a worker to start it';
    case 'running': {
      const pct = progress?.percent === undefined ? '' : ` — ${Math.round(progress.percent)}%`;
      return `running ${at(run.nextStep)}${pct}${run.cancelRequested ? ' · cancelling…' : ''}`;
    }
    case 'rolling_back':
      return `rolling back: undoing ${at(run.undoNext ?? Math.max(0, run.nextStep - 1))}`;
    case 'succeeded':
      return `succeeded · ${total}/${total} steps · ${ago(run.updatedAt, now)}`;
    case 'failed':
      return mutatedAnything(run.plan, run.nextStep, run.undoNext)
        ? `failed at ${at(run.nextStep)} · nothing undone yet: roll back or retry`
        : `failed at ${at(run.nextStep)} before changing anything · retry, or make a new plan`;
    case 'interrupted':
      return `interrupted at ${at(run.nextStep)} · kbops stopped mid-run: resume or roll back`;
    case 'cancelled':
      return completedMutating(run) > 0 || run.undoNext !== null
        ? `cancelled after ${run.nextStep}/${total} steps · its changes stay until rolled back`
        : 'cancelled · nothing was changed';
    case 'rolled_back':
      return completedMutating(run) > 0
        ? `rolled back · every change this run made is undone · ${ago(run.updatedAt, now)}`
        : `rolled back · ${ago(run.updatedAt, now)}`;
    case 'rollback_failed':
      return `rollback FAILED undoing ${at(run.undoNext ?? 0)} · the cluster is half-changed: fix it, then roll back again`;
    case 'rejected':
      return 'rejected · nothing was changed';
    case 'expired':
      return 'expired before it was approved · nothing was changed';
  }
}

const stepName = (run: Run, index: number, phase: 'do' | 'undo'): string =>
  phase === 'undo' ? `Undo of ${stepLabel(run, index)}` : `Step ${index + 1}/${run.plan.steps.length}`;

/** The thread reply when a step (or its undo) starts. */
export function stepStartedReply(run: Run, index: number, phase: 'do' | 'undo'): SlackMessage {
  const step = run.plan.steps[index];
  const title = stepTitle(run, index);
  const what = step === undefined ? [] : phase === 'do' ? [step.action] : (step.undo ?? []);
  const first = what[0] === undefined ? undefined : redactPlanText(describeAction(what[0])[0] ?? '');
  const line = `${phase === 'undo' ? MARK.undo : MARK.run} *${stepName(run, index, phase)}* · ${esc(title)}`;
  const detail = [
    ...(step === undefined ? [] : [`on ${esc(step.target)}`]),
    ...(first === undefined ? [] : [code(first.length > 240 ? `${first.slice(0, 240)}…` : first)]),
    ...(what.length > 1 ? [`+${what.length - 1} more`] : []),
  ].join(' · ');
  return fitMessage({
    text: `${phase === 'undo' ? 'Undoing' : 'Starting'} ${stepLabel(run, index)}: ${esc(title)}`,
    blocks: [section(line), ...(detail === '' ? [] : [context(detail)])],
  });
}

/** The last lines of a failed command's output, when its outcome carries them. */
function outputTail(detail: Json | undefined): string[] {
  const d = asRecord(detail);
  const pick = (k: string): string => {
    const v = d?.[k];
    return typeof v === 'string' ? v.trimEnd() : '';
  };
  const text = pick('stderr') || pick('stdout');
  return text === '' ? [] : text.split('\n').slice(-OUTPUT_LINES).map(freeText);
}

/** The thread reply when a step (or its undo) ends: ok with its duration, or failed with why. */
export function stepFinishedReply(run: Run, event: StepFinishedEvent): SlackMessage {
  const name = stepName(run, event.index, event.phase);
  const title = stepTitle(run, event.index);
  const o = event.outcome;
  if (o.ok)
    return fitMessage({
      text: `${name} done in ${elapsed(event.durationMs)}: ${esc(title)}`,
      blocks: [section(`${MARK.pass} *${name}* done in ${elapsed(event.durationMs)} · ${esc(title)}`)],
    });
  const what = o.kind === 'error' ? 'hit an error' : 'failed';
  const text = [
    `${MARK.fail} *${name} ${what}* after ${elapsed(event.durationMs)} · ${esc(title)}`,
    freeText(o.failure.message),
    ...(o.failure.hint === undefined ? [] : [`:bulb: ${freeText(o.failure.hint)}`]),
  ].join('\n');
  const output = chunkLines(outputTail(o.detail), SLACK_LIMITS.sectionText, true).slice(-1);
  return fitMessage({
    text: `${name} ${what}: ${freeText(o.failure.message)}`,
    blocks: [
      section(text),
      ...output.map(section),
      context(
        `${o.kind === 'error' ? 'error (a fault of kbops or its connection)' : 'failure'} ${code(o.failure.code)}`,
      ),
    ],
  });
}

function isCheck(c: unknown): c is CheckResult {
  if (c === null || typeof c !== 'object') return false;
  const r = c as Record<string, unknown>;
  return (
    typeof r.name === 'string' &&
    typeof r.ok === 'boolean' &&
    typeof r.waitedMs === 'number' &&
    typeof r.detail === 'string'
  );
}

/** The checks of a verdict step's outcome (`detail.checks`), or null when it has none. */
export function verdictChecks(outcome: StepOutcome): CheckResult[] | null {
  const checks = asRecord(outcome.detail)?.checks;
  return Array.isArray(checks) ? checks.filter(isCheck) : null;
}

/** Every check of the verdict, pass or FAIL, with its detail and how long it waited. */
export function verdictCard(run: Run, checks: readonly CheckResult[]): SlackMessage {
  const failed = checks.filter((c) => !c.ok).length;
  const passed = failed === 0;
  const subject = runSubject(run);
  const summary = passed
    ? `passed, ${checks.length} of ${checks.length} checks`
    : `FAILED, ${failed} of ${plural(checks.length, 'check')} failed`;
  const lines = checks
    .slice(0, MAX_CHECKS)
    .map(
      (c) =>
        `${c.ok ? `${MARK.pass} pass` : `${MARK.fail} *FAIL*`} · *${esc(c.name)}* — ${freeText(c.detail)} _(waited ${Math.round(c.waitedMs)} ms)_`,
    );
  if (checks.length > MAX_CHECKS)
    lines.push(`_… ${checks.length - MAX_CHECKS} more checks: see the run's journal_`);
  const blocks: KnownBlock[] = [
    header(`${passed ? MARK.pass : MARK.fail} Verdict: ${passed ? 'passed' : 'FAILED'}`),
    ...chunkLines(lines.length > 0 ? lines : ['_no checks were run_'], SLACK_LIMITS.sectionText).map(section),
    context(`${esc(subject)} · plan ${code(shortHash(run.plan.hash))} · ${summary}`),
  ];
  return fitMessage(
    { text: `Verdict for ${esc(subject)}: ${summary}`, blocks },
    { more: (n) => `… ${n} more, see the run's journal` },
  );
}

/** Why the run stopped, what is left changed, and the buttons to roll back or retry. */
export function failureCard(run: Run, failure: Failure): SlackMessage {
  const undoing = run.state === 'rolling_back' || run.state === 'rollback_failed';
  const index = undoing ? (run.undoNext ?? 0) : run.nextStep;
  const where = `${undoing ? 'the undo of ' : ''}${stepLabel(run, index)}`;
  const subject = runSubject(run);
  const changed = completedMutating(run);
  const left =
    changed > 0
      ? `${plural(changed, 'completed step')} changed the cluster; ${changed === 1 ? 'its change stays' : 'their changes stay'} until rolled back`
      : 'no completed step changed the cluster';
  // The card may be built from the failing event, before the run is marked failed; it never offers votes.
  const which: RunAction[] =
    run.state === 'running'
      ? ['rollback', 'retry']
      : runActionsFor(run, false).filter((a) => a !== 'approve' && a !== 'reject');
  const buttons = runButtons(run, which);
  return fitMessage({
    text: `${esc(subject)} failed at ${where}: ${freeText(failure.message)}`,
    blocks: [
      section(`${MARK.fail} *${esc(subject)}* failed at *${where}*: ${esc(stepTitle(run, index))}`),
      section(
        [
          freeText(failure.message),
          ...(failure.hint === undefined ? [] : [`:bulb: ${freeText(failure.hint)}`]),
        ].join('\n'),
      ),
      context(`${code(failure.code)} · ${left} · run ${code(run.id)} is ${stateWords(run.state)}`),
      ...(buttons === null ? [] : [buttons]),
    ],
  });
}
