import type { Json } from '../core/json';
import type { Run } from '../core/run';
import { audit, say, type CommandContext } from './chatops';
import { isMember } from './cluster-access';
import { rootMessage } from './run-messages';

// Button clicks on a run's root message. The value is only the run id: who clicked is checked
// again here, whatever the message showed them.

export const RUN_ACTIONS = [
  'run.approve',
  'run.reject',
  'run.cancel',
  'run.rollback',
  'run.retry',
  'run.resume',
] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

/** Refusals that mean the clicked message no longer shows the run as it is. */
const STALE = new Set(['not-awaiting', 'expired']);

/** `planHash`: the plan the clicked message showed (a re-planned run refuses old buttons). */
export async function handleRunAction(
  action: RunAction,
  runId: string,
  ctx: CommandContext,
  planHash?: string,
): Promise<void> {
  const { user, channel } = ctx.actor;
  const tell = (text: string) => ctx.surface.ephemeral(channel, user, say(text));
  const run = await ctx.deps.store.getRun(runId.slice(0, 40));
  const cluster = run && ctx.deps.inventory.clusters[run.cluster];
  if (!run || !cluster) return tell(`There is no run ${runId.slice(0, 40)}.`);
  await audit(ctx, run.cluster, action, { runId: run.id });
  const a = cluster.access;
  const allowed =
    action === 'run.approve' || action === 'run.reject'
      ? true // the approval policy decides, and says why not
      : action === 'run.cancel'
        ? user === run.requester ||
          isMember(a.approvers, user, ctx.deps.groupsOf) ||
          isMember(a.admins, user, ctx.deps.groupsOf)
        : isMember(a.approvers, user, ctx.deps.groupsOf) || isMember(a.admins, user, ctx.deps.groupsOf);
  if (!allowed) {
    await audit(ctx, run.cluster, `${action}-refused`, { runId: run.id, reason: 'not allowed' });
    return tell(`You may not ${action.slice(4)} runs on ${run.cluster}.`);
  }
  const r = await dispatch(action, run, ctx, planHash ?? run.plan.hash);
  if (!r.ok) {
    await tell(`:no_entry_sign: ${r.failure.message}${r.failure.hint ? `\n${r.failure.hint}` : ''}`);
    // A vote on a run that no longer waits (expired by the engine, ended elsewhere) came from a
    // stale message: redraw it from the run as it is now, so its buttons go away.
    if (STALE.has(r.failure.code)) await refreshRoot((await ctx.deps.store.getRun(run.id)) ?? run, ctx);
    return;
  }
  await refreshRoot(r.run, ctx);
}

async function dispatch(action: RunAction, run: Run, ctx: CommandContext, planHash: string) {
  const s = ctx.deps.runs;
  const who = ctx.actor.user;
  switch (action) {
    case 'run.approve':
    case 'run.reject':
      return s.vote(run.id, who, action === 'run.approve' ? 'approve' : 'reject', planHash);
    case 'run.cancel':
      return s.cancel(run.id, who);
    case 'run.rollback':
      return s.rollback(run.id, who);
    case 'run.retry':
      return s.retry(run.id, who);
    case 'run.resume': {
      const r = await s.resume(run.id, who);
      return r.ok ? { ok: true as const, run: r.run } : r;
    }
  }
}

/** The root message as it should look now (approvals included). */
export async function refreshRoot(run: Run, ctx: CommandContext): Promise<void> {
  const slack = run.meta.slack as { channel?: Json; ts?: Json } | undefined;
  if (typeof slack?.channel !== 'string' || typeof slack.ts !== 'string') return;
  const tally = await ctx.deps.runs.tally(run);
  await ctx.surface.update(slack.channel, slack.ts, rootMessage(run, ctx.deps.clock.now(), tally));
}
