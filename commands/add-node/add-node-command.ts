import { canOperateIn, isMember } from '../../src/chatops/cluster-access';
import { audit, say, splitArgs, type ChatCommand, type CommandContext } from '../../src/chatops/chatops';
import { renderPlan } from '../../src/core/render-plan';
import { prepareAddNode } from '../../src/runbooks/add-node/prepare-add-node';
import { renderPreflight } from '../../src/runbooks/add-node/add-node-preflight';
import { rootMessage } from '../../src/chatops/run-messages';
import { addNodeForm } from './add-node-form';

// /kingbase add-node <cluster> <host> [name=…]: plan in the thread of a new root message, with
// preflight and Approve / Reject buttons. Slow work happens after Slack has had its ack.

const USAGE = 'add-node <cluster> <host> [name=<node name>]';

async function run(ctx: CommandContext, args: readonly string[]): Promise<void> {
  const { words, options } = splitArgs(args.join(' '));
  const [clusterName, host] = words;
  const { user, channel } = ctx.actor;
  const refuse = (why: string) =>
    ctx.surface.ephemeral(channel, user, say(`${why}\nUsage: \`/kingbase ${USAGE}\``));
  if (words.length === 0 && ctx.actor.triggerId && ctx.surface.openForm) {
    // No arguments: ask with a form instead (the trigger must be used within 3 s: do it first).
    return ctx.surface.openForm(
      ctx.actor.triggerId,
      addNodeForm(Object.keys(ctx.deps.inventory.clusters), channel),
    );
  }
  if (!clusterName || !host || words.length > 2) return refuse('add-node needs a cluster and a host.');
  const cluster = ctx.deps.inventory.clusters[clusterName];
  if (!cluster) {
    return refuse(
      `There is no cluster \`${clusterName.slice(0, 63)}\` (known: ${Object.keys(ctx.deps.inventory.clusters).join(', ')}).`,
    );
  }
  if (!isMember(cluster.access.requesters, user, ctx.deps.groupsOf) || !canOperateIn(cluster, channel)) {
    await audit(ctx, cluster.name, 'add-node-refused', { reason: 'not a requester here' });
    return refuse(`You may not request changes to ${cluster.name} in this channel.`);
  }
  await audit(ctx, cluster.name, 'add-node', { host: host.slice(0, 253) });
  // A slash command cannot start a thread: post the root first, and keep its ts with the run.
  const root = await ctx.surface.post(
    channel,
    say(`:hourglass: <@${user}> asked to add \`${host}\` to *${cluster.name}*: preflight running…`),
  );
  const prepared = await prepareAddNode(
    { cluster: cluster.name, host, ...(options.name !== undefined && { name: options.name }) },
    { inventory: ctx.deps.inventory, env: ctx.deps.env, requester: user, now: ctx.deps.clock.now() },
  );
  if (!prepared.ok) {
    await ctx.surface.update(
      channel,
      root.ts,
      say(`:x: ${prepared.failure.message}${prepared.failure.hint ? `\n${prepared.failure.hint}` : ''}`),
    );
    return;
  }
  const preflight = renderPreflight(prepared.preflight);
  if (!prepared.plan) {
    await ctx.surface.update(
      channel,
      root.ts,
      say(
        `:x: Preflight failed for adding \`${host}\` to *${cluster.name}*: nothing was changed.\n\`\`\`${preflight}\`\`\``,
      ),
    );
    return;
  }
  const submitted = await ctx.deps.runs.submit(prepared.plan, {
    slack: { channel, ts: root.ts },
    preflight: prepared.preflight.map((c) => ({ ...c })),
  });
  if (!submitted.ok) {
    await ctx.surface.update(
      channel,
      root.ts,
      say(`:lock: ${submitted.failure.message}\n${submitted.failure.hint ?? ''}`),
    );
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
