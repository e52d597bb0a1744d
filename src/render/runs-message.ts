import type { Run } from '../core/run';
import { chunkLines, fitMessage, SLACK_LIMITS } from './limits';
import { stateMark } from './run-progress';
import { runSubject, stateWords } from './run-text';
import { context, header, section, type SlackMessage } from './slack-message';
import { ago, code, esc, mention, plural } from './slack-text';

// `/kingbase runs [cluster]`: the latest runs, newest first as given, one line each.

export interface RunsInput {
  /** Newest first. */
  readonly runs: readonly Run[];
  readonly now: Date;
  /** The cluster the list was asked for, if any. */
  readonly cluster?: string;
}

const MAX_RUNS = 40;

function runLine(run: Run, now: Date): string {
  const total = run.plan.steps.length;
  const where =
    run.state === 'succeeded' || run.nextStep === 0
      ? ''
      : ` at step ${Math.min(run.nextStep + 1, total)}/${total}`;
  return [
    `${stateMark(run.state)} ${code(run.id)} *${esc(runSubject(run))}*`,
    `${stateWords(run.state)}${where}`,
    `by ${mention(run.requester)}`,
    `plan ${code(run.plan.hash.slice(0, 12))}`,
    ago(run.createdAt, now),
  ].join(' · ');
}

export function runsMessage(input: RunsInput): SlackMessage {
  const scope = input.cluster === undefined ? '' : ` on ${esc(input.cluster)}`;
  const shown = input.runs.slice(0, MAX_RUNS);
  const lines = shown.map((r) => runLine(r, input.now));
  const more = input.runs.length - shown.length;
  if (more > 0) lines.push(`_… ${more} older not shown_`);
  const body = lines.length === 0 ? [`_No runs${scope} yet._`] : lines;
  return fitMessage(
    {
      text: `${plural(input.runs.length, 'run')}${scope}`,
      blocks: [
        header(`Runs${input.cluster === undefined ? '' : ` on ${input.cluster}`}`),
        ...chunkLines(body, SLACK_LIMITS.sectionText).map(section),
        context('`/kingbase show &lt;run&gt;` posts a run again with its buttons.'),
      ],
    },
    { more: (n) => `… ${n} more parts left out` },
  );
}
