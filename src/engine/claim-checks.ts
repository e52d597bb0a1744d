import { planIntact } from '../core/plan';
import type { Failure, JournalEvent, Run, StoredEvent } from '../core/run';
import type { Clock } from '../ports/clock';
import type { Connector } from '../ports/connector';
import { checkGuards, driftSummary } from './check-guards';
import { reapRemote } from './reap-remote';

// What a claim makes sure of before it changes anything (at a start, resume, retry or rollback):
// no remote command of an earlier claim still runs, the plan is the one approved, and the facts the
// plan stands on still hold. Each check says why the run must stop; the executor moves the run.

export interface ClaimCheckContext {
  readonly run: Run;
  /** The execution's own connector (its connections are reused by the steps). */
  readonly connector: Connector;
  /** A connector of its own for a check whose sessions must not be reused by later steps. */
  readonly freshConnector: () => Connector;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly journal: (event: JournalEvent) => Promise<void>;
}

export type ClaimVerdict =
  { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly undoNext: number };

type RemoteStarted = Extract<JournalEvent, { type: 'remote-started' }>;

/** Remote commands journaled as started whose step never journaled its end (the process died). */
export function unfinishedRemotes(history: readonly StoredEvent[]): RemoteStarted[] {
  const open = new Map<string, RemoteStarted>();
  for (const { event: e } of history) {
    if (e.type === 'remote-started') open.set(`${e.index}/${e.phase}/${e.target}/${e.pgid}`, e);
    if (e.type === 'step-finished')
      for (const [k, r] of open) if (r.index === e.index && r.phase === e.phase) open.delete(k);
  }
  return [...open.values()];
}

/** Every remote command an earlier claim left unfinished is gone: killed if still ours, then checked. */
export async function reapLeftovers(
  ctx: ClaimCheckContext,
  history: readonly StoredEvent[],
): Promise<ClaimVerdict> {
  const { run } = ctx;
  for (const r of unfinishedRemotes(history)) {
    const target = run.plan.targets[r.target];
    if (!target) continue;
    let failure: Failure | undefined;
    try {
      const reaped = await reapRemote(await ctx.connector.shell(target), r, ctx.signal);
      if (!reaped.gone) failure = reaped.failure;
      else if (reaped.killed)
        await ctx.journal({
          type: 'audit',
          action: 'remote-reaped',
          data: { target: r.target, pgid: r.pgid, stepId: r.stepId },
        });
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      failure = { code: 'reap-failed', message: `cannot check ${r.target}: ${(err as Error).message}` };
    }
    if (failure) {
      const why = `a command of step ${r.index + 1} from before may still run on ${r.target}: ${failure.message}`;
      return {
        ok: false,
        reason: `${why}${failure.hint ? ` (${failure.hint})` : ''}`,
        undoNext: run.undoNext ?? run.nextStep - 1,
      };
    }
  }
  return { ok: true };
}

/**
 * Before the first change of a forward claim: the plan is the one approved, and the facts it stands
 * on still hold. Otherwise nothing is run now and the reason says what changed.
 */
export async function recheckFacts(ctx: ClaimCheckContext): Promise<ClaimVerdict> {
  const { run } = ctx;
  const at = run.nextStep;
  // No undo for this claim: it changed nothing. Earlier claims' changes stay for an operator's rollback.
  const stop = (reason: string): ClaimVerdict => ({ ok: false, reason, undoNext: at - 1 });
  if (!planIntact(run.plan))
    return stop('the stored plan does not match the hash it was approved with: nothing was run');
  if ((run.plan.guards?.length ?? 0) === 0) return { ok: true };
  // Its own connections, closed after: a session opened now must not be the one later steps reuse
  // (a pgpool session opened before an attach never sees the new backend come up).
  const connector = ctx.freshConnector();
  const readings = await checkGuards(run.plan, at, connector, ctx.clock, ctx.signal).finally(() =>
    connector.close().catch(() => undefined),
  );
  await ctx.journal({
    type: 'audit',
    action: 'recheck',
    data: readings.map((r) => ({ fact: r.guard.name, target: r.guard.target, holds: r.ok, seen: r.detail })),
  });
  const drift = driftSummary(readings);
  return drift === ''
    ? { ok: true }
    : stop(
        `the cluster changed since this plan was made: ${drift}. Nothing was changed now; make a new plan`,
      );
}
