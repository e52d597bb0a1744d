import type { ClusterConfig } from '../config/normalise-inventory';
import { renderChecks } from '../core/check';
import type { Json } from '../core/json';
import { planAsFile, planDetailMessages, planNeedsFile } from '../render/plan-detail';
import { esc } from '../render/slack-text';
import { prepareRun, resolveInput } from '../runbooks/prepare-run';
import { chatOptionFields, chatUsage, type AnyRunbook } from '../runbooks/runbook';
import { audit, refuse, say, shownInput, type CommandContext } from './chatops';
import { canOperateIn, isMember } from './cluster-access';
import { clusterArg, usageProblem } from './command-args';
import { currentRoot } from './run-messages';

// A request to plan a run of a runbook, however it came: `/kingbase <runbook> …` typed, its modal,
// or a follow-up offer's button. Each front end turns what it got into the runbook's input; from
// there one flow checks who may ask where, checks the input against the runbook's schema, and
// plans in the thread of a new root message (preflight, Approve / Reject, then the full plan).
// Everything is checked before anything is posted to the channel or connects anywhere.

/** "`foo=`: unknown option (add-node takes name=<node>)": the same words for typed and offered input. */
export function unknownOptionProblem(runbook: AnyRunbook, key: string): string {
  const takes =
    chatOptionFields(runbook)
      .map((f) => `${f.key}=&lt;${f.meta.placeholder}&gt;`)
      .join(', ') || 'no options';
  return `${shownInput(`${key}=`)}: unknown option (${runbook.id} takes ${takes})`;
}

/** A problem with the request's words: to the asker only, with the runbook's chat usage. */
export const requestProblem = (ctx: CommandContext, runbook: AnyRunbook, problem: string): Promise<void> =>
  usageProblem(ctx, problem, chatUsage(runbook));

/**
 * The cluster named by `clusterWord` when the actor may request changes to it here (a requester,
 * in one of its channels); otherwise undefined, the asker told why (and the refusal audited).
 */
export async function mayRequest(
  ctx: CommandContext,
  runbook: AnyRunbook,
  clusterWord: string | undefined,
): Promise<ClusterConfig | undefined> {
  const c = clusterArg(ctx, clusterWord);
  if (!c.ok) return void (await requestProblem(ctx, runbook, c.problem));
  const cluster = c.value;
  const { user, channel } = ctx.actor;
  if (!isMember(cluster.access.requesters, user, ctx.deps.groupsOf) || !canOperateIn(cluster, channel))
    return void (await refuse(
      ctx,
      cluster.name,
      runbook.id,
      `You may not request changes to ${cluster.name} in this channel.`,
    ));
  return cluster;
}

/**
 * Plan a run of `runbook` on `cluster` (already allowed by mayRequest) from `input`, as the actor.
 * `typed` is what was given, as the audit journal keeps it.
 */
export async function planRequest(
  ctx: CommandContext,
  runbook: AnyRunbook,
  cluster: ClusterConfig,
  input: Record<string, unknown>,
  typed: Record<string, Json>,
): Promise<void> {
  const { user, channel } = ctx.actor;
  const checked = resolveInput(runbook, input, ctx.deps.inventory);
  if (!checked.ok) {
    await audit(ctx, cluster.name, `${runbook.id}-refused`, { reason: checked.failure.code });
    return requestProblem(ctx, runbook, esc(checked.failure.message));
  }
  await audit(ctx, cluster.name, runbook.id, typed);
  const subject = runbook.subject(checked.params);
  // A slash command cannot start a thread: post the root first, and keep its ts with the run.
  const root = await ctx.surface.post(
    channel,
    say(`:hourglass: <@${user}> asked to ${esc(subject)}: preflight running…`),
  );
  const prepared = await prepareRun(runbook, input, {
    inventory: ctx.deps.inventory,
    requester: user,
    now: ctx.deps.clock.now(),
    connectorFor: ctx.deps.connectorFor,
  });
  if (!prepared.ok) {
    const f = prepared.failure;
    await ctx.surface.update(
      channel,
      root.ts,
      say(`:x: ${esc(f.message)}${f.hint ? `\n${esc(f.hint)}` : ''}`),
    );
    return;
  }
  if (!prepared.plan) {
    await ctx.surface.update(
      channel,
      root.ts,
      say(
        `:x: Preflight failed (${esc(prepared.subject)}): nothing was changed.\n\`\`\`${esc(renderChecks(prepared.preflight))}\`\`\``,
      ),
    );
    return;
  }
  const submitted = await ctx.deps.runs.submit(prepared.plan, {
    slack: { channel, ts: root.ts },
    preflight: prepared.preflight.map((c) => ({ ...c })),
    subject: prepared.subject,
  });
  if (!submitted.ok) {
    const f = submitted.failure;
    await ctx.surface.update(channel, root.ts, say(`:lock: ${esc(f.message)}\n${esc(f.hint ?? '')}`));
    return;
  }
  const r = submitted.run;
  await ctx.surface.update(channel, root.ts, await currentRoot(r, ctx.deps));
  // The full plan in the thread, every step with its undo; as a file when it would not fit in a few replies.
  const detail = { subject: prepared.subject, policy: ctx.deps.runs.policyOf(r.plan) };
  if (planNeedsFile(r.plan, detail)) {
    const file = planAsFile(r.plan, detail);
    await ctx.surface.post(channel, file.message, root.ts);
    await ctx.surface.upload(channel, root.ts, file.filename, file.content);
  } else for (const m of planDetailMessages(r.plan, detail)) await ctx.surface.post(channel, m, root.ts);
}
