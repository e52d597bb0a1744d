import { canOperateIn, isMember } from '../../src/chatops/cluster-access';
import {
  audit,
  refuse,
  say,
  shownInput,
  splitArgs,
  type ChatCommand,
  type CommandContext,
} from '../../src/chatops/chatops';
import { clusterArg, usageProblem } from '../../src/chatops/command-args';
import { rootMessage } from '../../src/chatops/run-messages';
import { argsFromForm, formIdOf, runbookForm } from '../../src/chatops/runbook-form';
import { renderChecks } from '../../src/core/check';
import type { Json } from '../../src/core/json';
import { planAsFile, planDetailMessages, planNeedsFile } from '../../src/render/plan-detail';
import { esc } from '../../src/render/slack-text';
import { prepareRun, resolveInput } from '../../src/runbooks/prepare-run';
import {
  chatOptionFields,
  chatUsage,
  fieldValue,
  positionalFields,
  type AnyRunbook,
} from '../../src/runbooks/runbook';

// `/kingbase <runbook> <cluster> …`, for every runbook of the registry: the plan in the thread of
// a new root message, with preflight and Approve / Reject buttons, then the full plan. Every
// argument is checked before anything is posted to the channel or connects anywhere; slow work
// happens after Slack has had its ack.

async function run(runbook: AnyRunbook, ctx: CommandContext, args: readonly string[]): Promise<void> {
  const usage = chatUsage(runbook);
  const { words, options } = splitArgs(args);
  const { user, channel } = ctx.actor;
  if (args.length === 0 && ctx.actor.triggerId && ctx.surface.openForm) {
    // No arguments: ask with a form instead (the trigger must be used within 3 s: do it first).
    return ctx.surface.openForm(
      ctx.actor.triggerId,
      runbookForm(runbook, Object.keys(ctx.deps.inventory.clusters), channel),
    );
  }
  const wrong = (problem: string) => usageProblem(ctx, problem, usage);
  const positional = positionalFields(runbook);
  const optional = chatOptionFields(runbook);
  const unknown = options.find((o) => !optional.some((f) => f.key === o.key));
  if (unknown) {
    const takes = optional.map((f) => `${f.key}=&lt;${f.meta.placeholder}&gt;`).join(', ') || 'no options';
    return wrong(`${shownInput(`${unknown.key}=`)}: unknown option (${runbook.id} takes ${takes})`);
  }
  const twice = options.find((o, i) => options.findIndex((p) => p.key === o.key) !== i);
  if (twice) return wrong(`${twice.key}: given more than once`);
  const last = positional.at(-1);
  if (last && words.length > positional.length)
    return wrong(
      `${last.key}: one ${last.meta.placeholder} only, but ${shownInput(words.slice(positional.length - 1).join(' '))} is more than one word`,
    );
  const c = clusterArg(ctx, words[0]);
  if (!c.ok) return wrong(c.problem);
  const cluster = c.value;
  if (!isMember(cluster.access.requesters, user, ctx.deps.groupsOf) || !canOperateIn(cluster, channel))
    return refuse(
      ctx,
      cluster.name,
      runbook.id,
      `You may not request changes to ${cluster.name} in this channel.`,
    );
  const input: Record<string, unknown> = {};
  const typed: Record<string, Json> = {};
  for (const [i, f] of positional.entries()) {
    const word = words[i];
    if (word === undefined) {
      if (f.optional) continue;
      return wrong(`${f.key}: missing`);
    }
    input[f.key] = fieldValue(f, word);
    typed[f.key] = word;
  }
  for (const o of options) {
    input[o.key] = fieldValue(
      optional.find((f) => f.key === o.key)!,
      o.value,
    );
    typed[o.key] = o.value;
  }
  const checked = resolveInput(runbook, input, ctx.deps.inventory);
  if (!checked.ok) {
    await audit(ctx, cluster.name, `${runbook.id}-refused`, { reason: checked.failure.code });
    return wrong(esc(checked.failure.message));
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
        `:x: Preflight failed (${esc(subject)}): nothing was changed.\n\`\`\`${esc(renderChecks(prepared.preflight))}\`\`\``,
      ),
    );
    return;
  }
  const submitted = await ctx.deps.runs.submit(prepared.plan, {
    slack: { channel, ts: root.ts },
    preflight: prepared.preflight.map((c) => ({ ...c })),
    subject,
  });
  if (!submitted.ok) {
    const f = submitted.failure;
    await ctx.surface.update(channel, root.ts, say(`:lock: ${esc(f.message)}\n${esc(f.hint ?? '')}`));
    return;
  }
  const r = submitted.run;
  await ctx.surface.update(
    channel,
    root.ts,
    rootMessage(r, ctx.deps.clock.now(), await ctx.deps.runs.tally(r)),
  );
  // The full plan in the thread, every step with its undo; as a file when it would not fit in a few replies.
  const detail = { subject, policy: ctx.deps.runs.policyOf(r.plan) };
  if (planNeedsFile(r.plan, detail)) {
    const file = planAsFile(r.plan, detail);
    await ctx.surface.post(channel, file.message, root.ts);
    await ctx.surface.upload(channel, root.ts, file.filename, file.content);
  } else for (const m of planDetailMessages(r.plan, detail)) await ctx.surface.post(channel, m, root.ts);
}

/** The chat verb of a runbook: `/kingbase add-node …`, and its modal. */
export function runbookCommand(runbook: AnyRunbook): ChatCommand {
  return {
    name: runbook.id,
    usage: chatUsage(runbook),
    summary: runbook.summary,
    form: { id: formIdOf(runbook), args: (values) => argsFromForm(runbook, values) },
    run: (ctx, args) => run(runbook, ctx, args),
  };
}
