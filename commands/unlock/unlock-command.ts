import { audit, refuse, say, shownInput, UNSHOWABLE, type ChatCommand } from '../../src/chatops/chatops';
import { clusterArg, usageProblem } from '../../src/chatops/command-args';
import { canOperateIn, unverifiedRefusal } from '../../src/chatops/cluster-access';
import { esc } from '../../src/render/slack-text';

const USAGE = 'unlock <cluster> [--cancel] [reason…]';

/** How long `--cancel` waits for the run's worker to stop at its current step. */
export const UNLOCK_CANCEL_WAIT_MS = 60_000;

// Reasons are journaled as given, minus what could hide or reorder text.
const clean = (text: string): string => [...text.replace(UNSHOWABLE, ' ')].slice(0, 500).join('').trim();

export const unlockCommand: ChatCommand = {
  name: 'unlock',
  usage: USAGE,
  summary: "admins: force a cluster's lock open (journaled); refused while its run executes",
  run: async (ctx, args) => {
    const [name, ...rest] = args;
    const { channel, user } = ctx.actor;
    const c = clusterArg(ctx, name);
    if (!c.ok) return usageProblem(ctx, c.problem, USAGE);
    const cluster = c.value;
    const cancelFirst = rest[0] === '--cancel';
    const reason = clean((cancelFirst ? rest.slice(1) : rest).join(' ')) || 'no reason given';
    if (!canOperateIn(cluster, channel))
      return refuse(ctx, cluster.name, 'unlock', `${cluster.name} may be operated only in its own channels.`);
    const unverified = ctx.deps.unverifiedUsers ? unverifiedRefusal(cluster, 'force a lock open') : undefined;
    if (unverified !== undefined) return refuse(ctx, cluster.name, 'unlock', unverified);
    if (cancelFirst) {
      await ctx.surface.ephemeral(
        channel,
        user,
        say(
          `Cancelling the run that holds ${esc(cluster.name)} and waiting up to ${UNLOCK_CANCEL_WAIT_MS / 1000} s for it to stop…`,
        ),
      );
    }
    const r = cancelFirst
      ? await ctx.deps.runs.cancelAndUnlock(cluster.name, user, reason, { waitMs: UNLOCK_CANCEL_WAIT_MS })
      : await ctx.deps.runs.forceUnlock(cluster.name, user, reason);
    await audit(
      ctx,
      cluster.name,
      r.ok ? 'unlock' : 'unlock-refused',
      r.ok ? { runId: r.released.runId } : { code: r.failure.code },
    );
    await ctx.surface.ephemeral(
      channel,
      user,
      say(
        r.ok
          ? `Unlocked ${esc(cluster.name)} (it was held by run ${shownInput(r.released.runId)}).`
          : `:no_entry_sign: ${esc(r.failure.message)}${r.failure.hint ? `\n${esc(r.failure.hint)}` : ''}`,
      ),
    );
  },
};
