import type { Run } from '../core/run';
import type { RunState } from '../core/run-state';
import { fitMessage, SLACK_LIMITS, truncateLine } from './limits';
import { runSubject, stateWords } from './run-text';
import { actions, button, context, section, type KnownBlock, type SlackMessage } from './slack-message';
import { code, esc, plural } from './slack-text';

// What could follow a run that ended, in its thread: one button per offer a runbook made, each
// planning a new run (new root message, preflight, plan) for whoever presses it. The button's value
// carries the offer only as a request: its handler checks the presser and the values again, exactly
// as if they had typed `/kingbase <runbook> …` themselves, so a forged value gains nothing.

/** The action id of every offer's button. */
export const FOLLOW_UP_ACTION = 'follow-up.plan';

/** Offer labels are cut to this (the runbook contract's limit for a button's text). */
export const FOLLOW_UP_LABEL_MAX = 30;

/** One offer, as the thread shows it. */
export interface FollowUpOffer {
  /** The offering runbook: what the button plans. */
  readonly runbook: string;
  readonly label: string;
  /** Its input, cluster included. */
  readonly values: Readonly<Record<string, string | number>>;
  /** The same request typed (plain text): `/kingbase failover-test lab srv13`. */
  readonly command: string;
}

/** Characters all buttons' values may take together: half a message, the rest is for the text. */
const VALUES_BUDGET = SLACK_LIMITS.messageJson / 2;

/** What a pressed offer's button asks for (read back from its value, trusted for nothing). */
export interface FollowUpRequest {
  readonly runbook: string;
  /** The run after which it was offered (for the audit journal only). */
  readonly from: string;
  readonly values: Readonly<Record<string, string | number>>;
}

/** The button's value: `{"runbook":"…","from":"<run id>","values":{…}}`, at most 2000 characters. */
export const followUpValue = (from: string, offer: Pick<FollowUpOffer, 'runbook' | 'values'>): string =>
  JSON.stringify({ runbook: offer.runbook, from, values: offer.values });

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A pressed button's value read back, or null when it is not one followUpValue could have made. */
export function readFollowUpValue(value: string): FollowUpRequest | null {
  if (value.length > SLACK_LIMITS.buttonValue) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return null;
  }
  if (!isRecord(parsed)) return null;
  const { runbook, from, values } = parsed;
  if (typeof runbook !== 'string' || typeof from !== 'string' || !isRecord(values)) return null;
  const entries = Object.entries(values);
  const plain = entries.every(
    ([, v]) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)),
  );
  if (!plain) return null;
  return { runbook, from, values: Object.fromEntries(entries) as Record<string, string | number> };
}

export interface FollowUpMessageInput {
  readonly run: Run;
  /** The state the run ended in. */
  readonly state: RunState;
  readonly offers: readonly FollowUpOffer[];
}

/** The offers after a run ended, or null when there is no button to show. */
export function followUpMessage(input: FollowUpMessageInput): SlackMessage | null {
  const { run, offers } = input;
  // A value that does not fit a button would arrive cut, and unreadable, and the buttons must leave
  // room for the rest of the message: an offer beyond either is left out (and counted).
  const shown: Array<FollowUpOffer & { value: string }> = [];
  let used = 0;
  for (const o of offers) {
    const value = followUpValue(run.id, o);
    if (value.length > SLACK_LIMITS.buttonValue || shown.length === SLACK_LIMITS.actionsElements) continue;
    if (used + value.length > VALUES_BUDGET) continue;
    used += value.length;
    shown.push({ ...o, value });
  }
  if (shown.length === 0) return null;
  const left = offers.length - shown.length;
  const label = (o: FollowUpOffer): string => truncateLine(o.label, FOLLOW_UP_LABEL_MAX);
  const subject = esc(runSubject(run));
  const blocks: KnownBlock[] = [
    section(
      `:bulb: *What next?* Run ${code(run.id)} (${subject}) ${stateWords(input.state)}. Each button plans a new run in a new thread, requested by whoever presses it; nothing changes until it is approved.`,
    ),
    section(shown.map((o) => `• *${esc(label(o))}*: ${code(o.command)}`).join('\n')),
    ...(left > 0 ? [context(`${plural(left, 'more offer')} left out: too large for a button`)] : []),
    actions(shown.map((o) => button({ text: label(o), actionId: FOLLOW_UP_ACTION, value: o.value }))),
  ];
  return fitMessage(
    { text: `What next after ${subject}: ${shown.map((o) => esc(label(o))).join(', ')}`, blocks },
    { more: (n) => `… ${n} more, not shown` },
  );
}
