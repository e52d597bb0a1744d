import type { ClusterConfig } from '../config/normalise-inventory';
import { CLUSTER_NAME } from '../config/inventory-schema';
import { esc } from '../render/slack-text';
import { usageError } from '../render/usage-error';
import { refuse, shownInput, type CommandContext } from './chatops';
import { readRefusal } from './cluster-access';
import { RUN_ID } from './run-actions';

// Arguments of `/kingbase …` checked before anything is looked up: each problem names its field, and
// whatever was typed is shown cut, made visible and escaped (a reply never pings `<!channel>`).

export type Arg<T> = { ok: true; value: T } | { ok: false; problem: string };

export function clusterArg(ctx: CommandContext, raw: string | undefined): Arg<ClusterConfig> {
  const known = Object.keys(ctx.deps.inventory.clusters);
  if (raw === undefined || raw === '') return { ok: false, problem: 'cluster: missing' };
  if (!CLUSTER_NAME.test(raw))
    return {
      ok: false,
      problem: `cluster: ${shownInput(raw)} is not a cluster name (a letter, then letters, digits, _ or -)`,
    };
  const cluster = ctx.deps.inventory.clusters[raw];
  if (!cluster)
    return {
      ok: false,
      problem: `cluster: there is no cluster ${shownInput(raw)} (known: ${known.map(esc).join(', ') || 'none'})`,
    };
  return { ok: true, value: cluster };
}

export function runIdArg(raw: string | undefined): Arg<string> {
  if (raw === undefined || raw === '') return { ok: false, problem: 'run: missing' };
  if (!RUN_ID.test(raw))
    return {
      ok: false,
      problem: `run: ${shownInput(raw)} is not a run id (like RABCD2345, from \`/kingbase runs\`)`,
    };
  return { ok: true, value: raw };
}

/**
 * A typed command that is wrong: the problem and the right form (`usage`, after `/kingbase`), to the
 * typist only. `problem` is mrkdwn with what was typed shown through `shownInput`; usageError escapes
 * whatever is still unescaped, once (see problemText).
 */
export const usageProblem = (ctx: CommandContext, problem: string, usage: string): Promise<void> =>
  ctx.surface.ephemeral(ctx.actor.channel, ctx.actor.user, usageError({ problem, usage }));

/** True when the actor may read the cluster here; otherwise refused (audited, ephemeral). */
export async function mayRead(
  ctx: CommandContext,
  cluster: ClusterConfig,
  command: 'status' | 'runs' | 'show' | 'report',
): Promise<boolean> {
  const why = readRefusal(cluster, ctx.actor.user, ctx.actor.channel, ctx.deps.groupsOf);
  if (why === undefined) return true;
  const what = command === 'status' ? 'the status' : command === 'report' ? 'the health' : 'the runs';
  await refuse(ctx, cluster.name, command, `You may not see ${what} of ${cluster.name} here: ${why}.`);
  return false;
}
