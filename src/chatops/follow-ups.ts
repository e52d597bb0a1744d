import type { Json } from '../core/json';
import type { Run } from '../core/run';
import type { RunState } from '../core/run-state';
import { followUpMessage, readFollowUpValue, type FollowUpOffer } from '../render/follow-up-message';
import {
  chatOptionFields,
  fieldValue,
  positionalFields,
  type AnyRunbook,
  type FinishedRun,
} from '../runbooks/runbook';
import type { ChatMessage } from './chat-surface';
import { audit, say, type CommandContext } from './chatops';
import { mayRequest, planRequest, requestProblem, unknownOptionProblem } from './runbook-request';

// Follow-up offers: when a run ends, every registered runbook is asked what could follow it, and
// the thread gets one button per offer. Pressing one is a request like `/kingbase <runbook> …`
// typed by the presser: the same access check, the same schema, the same planning flow.

/**
 * The states in which the executor leaves a run: the moments its thread is offered what could
 * follow. Each end is one: a run that fails and is then rolled back is asked at both.
 */
export const FOLLOW_UP_STATES: ReadonlySet<RunState> = new Set<RunState>([
  'succeeded',
  'failed',
  'cancelled',
  'rolled_back',
  'rollback_failed',
]);

export const finishedRun = (run: Run, state: RunState): FinishedRun => ({
  runbook: run.plan.runbook.id,
  cluster: run.cluster,
  params: run.plan.params,
  state,
  stepsDone: run.plan.steps.slice(0, run.nextStep).map((s) => s.id),
});

type Request =
  | { ok: true; clusterWord: string | undefined; input: Record<string, unknown>; typed: Record<string, Json> }
  | { ok: false; problem: string };

/**
 * Offered values as the words `/kingbase <runbook> …` would take: only the chat's positional words
 * and options, each read as a typed word is (a number field's value is a number when all digits).
 */
export function requestFromValues(
  runbook: AnyRunbook,
  values: Readonly<Record<string, string | number>>,
): Request {
  const fields = [...positionalFields(runbook), ...chatOptionFields(runbook)];
  const input: Record<string, unknown> = {};
  const typed: Record<string, Json> = {};
  for (const [key, value] of Object.entries(values)) {
    const f = fields.find((x) => x.key === key);
    if (!f) return { ok: false, problem: unknownOptionProblem(runbook, key) };
    input[key] = fieldValue(f, String(value));
    typed[key] = String(value);
  }
  const missing = positionalFields(runbook).find((f) => !f.optional && !(f.key in input));
  if (missing) return { ok: false, problem: `${missing.key}: missing` };
  const cluster = values.cluster;
  return { ok: true, clusterWord: cluster === undefined ? undefined : String(cluster), input, typed };
}

/** `/kingbase failover-test lab srv13 note=x`: an offer as it would be typed (plain text). */
function typedForm(runbook: AnyRunbook, values: Readonly<Record<string, string | number>>): string {
  const words = positionalFields(runbook).flatMap((f) =>
    values[f.key] === undefined ? [] : [String(values[f.key])],
  );
  const options = chatOptionFields(runbook).flatMap((f) =>
    values[f.key] === undefined ? [] : [`${f.key}=${String(values[f.key])}`],
  );
  return ['/kingbase', runbook.id, ...words, ...options].join(' ');
}

/**
 * What every runbook offers after `done`. A runbook that throws, or offers what its own input
 * refuses (a button that could only be refused), is left out and reported to `onError`.
 */
export function followUpOffers(
  runbooks: readonly AnyRunbook[],
  done: FinishedRun,
  onError: (err: unknown) => void,
): FollowUpOffer[] {
  const out: FollowUpOffer[] = [];
  for (const runbook of runbooks) {
    if (!runbook.followUps) continue;
    let offered: readonly { label: string; values: Readonly<Record<string, string | number>> }[];
    try {
      offered = runbook.followUps(done);
    } catch (err) {
      onError(err);
      continue;
    }
    for (const offer of offered) {
      const request = requestFromValues(runbook, offer.values);
      if (!request.ok || !runbook.input.safeParse(request.input).success) {
        onError(new Error(`runbook ${runbook.id} offered a follow-up its own input refuses`));
        continue;
      }
      out.push({
        runbook: runbook.id,
        label: offer.label,
        values: offer.values,
        command: typedForm(runbook, offer.values),
      });
    }
  }
  return out;
}

/** The thread's offers after `run` ended in `state`, or null when no runbook offers anything. */
export function followUpMessageFor(
  run: Run,
  state: RunState,
  runbooks: readonly AnyRunbook[],
  onError: (err: unknown) => void,
): ChatMessage | null {
  const offers = followUpOffers(runbooks, finishedRun(run, state), onError);
  return offers.length === 0 ? null : followUpMessage({ run, state, offers });
}

/** An offer's button pressed: a request by the presser, checked as if they had typed it. */
export async function handleFollowUp(value: string, ctx: CommandContext): Promise<void> {
  const request = readFollowUpValue(value);
  const runbook = request && ctx.deps.runbooks.find((r) => r.id === request.runbook);
  if (!request || !runbook) {
    await audit(ctx, '-', 'follow-up-refused', {
      reason: request ? 'unknown-runbook' : 'unreadable-value',
    });
    return ctx.surface.ephemeral(
      ctx.actor.channel,
      ctx.actor.user,
      say(
        ':no_entry_sign: This button offers nothing kbops can plan. Type the request instead (see `/kingbase help`).',
      ),
    );
  }
  // The journal names a cluster only when the inventory has it: the value may say anything.
  const c = request.values.cluster;
  const named = typeof c === 'string' && Object.hasOwn(ctx.deps.inventory.clusters, c) ? c : '-';
  await audit(ctx, named, 'follow-up', { runbook: runbook.id, from: request.from.slice(0, 40) });
  const r = requestFromValues(runbook, request.values);
  if (!r.ok) {
    await audit(ctx, named, `${runbook.id}-refused`, { reason: 'bad-input' });
    return requestProblem(ctx, runbook, r.problem);
  }
  const cluster = await mayRequest(ctx, runbook, r.clusterWord);
  if (!cluster) return;
  await planRequest(ctx, runbook, cluster, r.input, r.typed);
}
