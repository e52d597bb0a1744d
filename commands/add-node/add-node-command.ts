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
import { renderPlan } from '../../src/core/render-plan';
import { code, esc } from '../../src/render/slack-text';
import { parseAddNodeParams } from '../../src/runbooks/add-node/add-node-params';
import { prepareAddNode } from '../../src/runbooks/add-node/prepare-add-node';
import { renderPreflight } from '../../src/runbooks/add-node/add-node-preflight';
import { rootMessage } from '../../src/chatops/run-messages';
import { addNodeForm } from './add-node-form';

// /kingbase add-node <cluster> <host> [name=…]: plan in the thread of a new root message, with
// preflight and Approve / Reject buttons. Slow work happens after Slack has had its ack. Every
// argument is checked before anything is posted to the channel or connects anywhere.

const USAGE = 'add-node <cluster> <host> [name=<node name>]';
const OPTIONS = ['name'];

async function run(ctx: CommandContext, args: readonly string[]): Promise<void> {
  const { words, options } = splitArgs(args);
  const { user, channel } = ctx.actor;
  if (args.length === 0 && ctx.actor.triggerId && ctx.surface.openForm) {
    // No arguments: ask with a form instead (the trigger must be used within 3 s: do it first).
    return ctx.surface.openForm(
      ctx.actor.triggerId,
      addNodeForm(Object.keys(ctx.deps.inventory.clusters), channel),
    );
  }
  const wrong = (problem: string) => usageProblem(ctx, problem, USAGE);
  const unknown = options.find((o) => !OPTIONS.includes(o.key));
  if (unknown)
    return wrong(`${shownInput(`${unknown.key}=`)}: unknown option (add-node takes name=&lt;node&gt;)`);
  if (options.length > new Set(options.map((o) => o.key)).size) return wrong('name: given more than once');
  const [clusterName, host] = words;
  if (words.length > 2)
    return wrong(`host: one host only, but ${shownInput(words.slice(1).join(' '))} is more than one word`);
  const c = clusterArg(ctx, clusterName);
  if (!c.ok) return wrong(c.problem);
  const cluster = c.value;
  if (!isMember(cluster.access.requesters, user, ctx.deps.groupsOf) || !canOperateIn(cluster, channel))
    return refuse(
      ctx,
      cluster.name,
      'add-node',
      `You may not request changes to ${cluster.name} in this channel.`,
    );
  if (host === undefined) return wrong('host: missing');
  const name = options.find((o) => o.key === 'name')?.value;
  const input = { cluster: cluster.name, host, ...(name !== undefined && { name }) };
  const checked = parseAddNodeParams(input, ctx.deps.inventory.clusters);
  if (!checked.ok) {
    await audit(ctx, cluster.name, 'add-node-refused', { reason: checked.failure.code });
    return wrong(esc(checked.failure.message));
  }
  await audit(ctx, cluster.name, 'add-node', { host });
  // A slash command cannot start a thread: post the root first, and keep its ts with the run.
  const root = await ctx.surface.post(
    channel,
    say(`:hourglass: <@${user}> asked to add ${code(host)} to *${esc(cluster.name)}*: preflight running…`),
  );
  const prepared = await prepareAddNode(input, {
    inventory: ctx.deps.inventory,
    env: ctx.deps.env,
    requester: user,
    now: ctx.deps.clock.now(),
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
  const preflight = renderPreflight(prepared.preflight);
  if (!prepared.plan) {
    await ctx.surface.update(
      channel,
      root.ts,
      say(
        `:x: Preflight failed for adding ${code(host)} to *${esc(cluster.name)}*: nothing was changed.\n\`\`\`${esc(preflight)}\`\`\``,
      ),
    );
    return;
  }
  const submitted = await ctx.deps.runs.submit(prepared.plan, {
    slack: { channel, ts: root.ts },
    preflight: prepared.preflight.map((c) => ({ ...c })),
  });
  if (!submitted.ok) {
    const f = submitted.failure;
    await ctx.surface.update(channel, root.ts, say(`:lock: ${esc(f.message)}\n${esc(f.hint ?? '')}`));
    return;
  }
  const run = submitted.run;
  await ctx.surface.update(
    channel,
    root.ts,
    rootMessage(run, ctx.deps.clock.now(), await ctx.deps.runs.tally(run)),
  );
  await ctx.surface.upload(channel, root.ts, `plan-${run.id}.txt`, renderPlan(run.plan));
}

export const addNodeCommand: ChatCommand = {
  name: 'add-node',
  usage: USAGE,
  summary: 'plan adding a data node (preflight, exact steps, approval buttons)',
  run,
};
