import type { Json } from '../core/json';
import type { Run } from '../core/run';
import { audit, refuse, say, shownInput, type CommandContext } from './chatops';
import { canOperateIn, isMember, unverifiedRefusal, type Principals } from './cluster-access';
import { currentRoot } from './run-messages';

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

/** What a run id looks like (kbops makes R + 8 characters); anything else is refused before a lookup. */
export const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/;

/** What lets kbops change a cluster: not from a front end that cannot tell people apart. */
const UNVERIFIED_GATED = new Set<RunAction>(['run.approve', 'run.retry', 'run.resume', 'run.rollback']);

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
  if (!RUN_ID.test(runId)) return tell(`run: ${shownInput(runId)} is not a run id (see \`/kingbase runs\`).`);
  const run = await ctx.deps.store.getRun(runId);
  const cluster = run && ctx.deps.inventory.clusters[run.cluster];
  if (!run || !cluster) return tell(`run: there is no run ${shownInput(runId)}.`);
  await audit(ctx, run.cluster, action, { runId: run.id });
  const a = cluster.access;
  const verb = action.slice(4);
  const member = (p: Principals) => isMember(p, user, ctx.deps.groupsOf);
  const refusal = !canOperateIn(cluster, channel)
    ? `${cluster.name} may be operated only in its own channels: ${verb} it there.`
    : ctx.deps.unverifiedUsers && UNVERIFIED_GATED.has(action)
      ? unverifiedRefusal(cluster, `${verb} runs`)
      : action === 'run.approve' || action === 'run.reject'
        ? undefined // the approval policy decides, and says why not
        : action === 'run.cancel'
          ? user === run.requester || member(a.approvers) || member(a.admins)
            ? undefined
            : `You may not ${verb} runs on ${run.cluster}.`
          : member(a.approvers) || member(a.admins)
            ? undefined
            : `You may not ${verb} runs on ${run.cluster}.`;
  if (refusal !== undefined) return refuse(ctx, run.cluster, action, refusal, { runId: run.id });
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
  await ctx.surface.update(slack.channel, slack.ts, await currentRoot(run, ctx.deps));
}
