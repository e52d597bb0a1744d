import { splitArgs, shownInput, type ChatCommand, type CommandContext } from '../../src/chatops/chatops';
import {
  mayRequest,
  planRequest,
  requestProblem,
  unknownOptionProblem,
} from '../../src/chatops/runbook-request';
import { argsFromForm, formIdOf, runbookForm } from '../../src/chatops/runbook-form';
import type { Json } from '../../src/core/json';
import {
  chatOptionFields,
  chatUsage,
  fieldValue,
  positionalFields,
  type AnyRunbook,
} from '../../src/runbooks/runbook';

// `/kingbase <runbook> <cluster> …`, for every runbook of the registry: the typed words (or the
// modal's) become the runbook's input; the request itself is src/chatops/runbook-request.ts's, shared
// with the follow-up offers' buttons. Slow work happens after Slack has had its ack.

async function run(runbook: AnyRunbook, ctx: CommandContext, args: readonly string[]): Promise<void> {
  const { words, options } = splitArgs(args);
  if (args.length === 0 && ctx.actor.triggerId && ctx.surface.openForm) {
    // No arguments: ask with a form instead (the trigger must be used within 3 s: do it first).
    return ctx.surface.openForm(
      ctx.actor.triggerId,
      runbookForm(runbook, Object.keys(ctx.deps.inventory.clusters), ctx.actor.channel),
    );
  }
  const wrong = (problem: string) => requestProblem(ctx, runbook, problem);
  const positional = positionalFields(runbook);
  const optional = chatOptionFields(runbook);
  const unknown = options.find((o) => !optional.some((f) => f.key === o.key));
  if (unknown) return wrong(unknownOptionProblem(runbook, unknown.key));
  const twice = options.find((o, i) => options.findIndex((p) => p.key === o.key) !== i);
  if (twice) return wrong(`${twice.key}: given more than once`);
  const last = positional.at(-1);
  if (last && words.length > positional.length)
    return wrong(
      `${last.key}: one ${last.meta.placeholder} only, but ${shownInput(words.slice(positional.length - 1).join(' '))} is more than one word`,
    );
  const cluster = await mayRequest(ctx, runbook, words[0]);
  if (!cluster) return;
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
  await planRequest(ctx, runbook, cluster, input, typed);
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
