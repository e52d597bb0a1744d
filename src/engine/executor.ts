import type { Action, ProgressReader, Step } from '../core/plan';
import { approvalsNeededAt } from '../core/plan';
import type { JournalEvent, Run, StepOutcome } from '../core/run';
import type { RunEventType } from '../core/run-state';
import type { Clock } from '../ports/clock';
import type { Connector } from '../ports/connector';
import type { Notifier } from '../ports/notifier';
import type { RunPatch, RunStore } from '../ports/run-store';
import { reapLeftovers, recheckFacts, type ClaimCheckContext, type ClaimVerdict } from './claim-checks';
import { runAction } from './run-action';
import { StallWatch } from './stall-watch';

// Executes one claimed run, step by step, through the ports. Every event is journaled before any
// notifier hears of it. On failure it offers (or by policy runs) the undo of the steps that
// changed something, newest first. Cancel aborts the running remote command and stops there.

export interface ExecutorDeps {
  readonly store: RunStore;
  readonly connectorFor: (run: Run) => Connector;
  readonly notifier: Notifier;
  readonly clock: Clock;
  /** This process's identity as the runs' owner. */
  readonly owner: string;
  readonly leaseMs: number;
  /** How often the executor looks for a cancel request (and renews its lease). */
  readonly pollMs: number;
  /** Approvals every run needs (the policy's N); steps may demand more. */
  readonly baseApprovals: (run: Run) => number;
  /** Roll back at once when a step fails, instead of waiting for an operator's decision. */
  readonly autoRollback: (run: Run) => boolean;
  /** Readers of command output for steps that report progress, by name (from the runbooks). */
  readonly progressReaders?: Readonly<Record<string, ProgressReader>>;
  /**
   * The process is shutting down: each execution stops at its current step within one poll (its
   * remote command killed) and leaves the run as it is, for the engine to hand it back as interrupted.
   */
  readonly shutdown?: AbortSignal;
}

type Stop = 'cancel' | 'lost';

class StopError extends Error {
  constructor(readonly stop: Stop) {
    super(stop === 'cancel' ? 'cancelled by request' : 'this process no longer owns the run');
    this.name = 'AbortError';
  }
}

export class Executor {
  constructor(private readonly deps: ExecutorDeps) {}

  /** Runs a run this process has claimed (running or rolling_back) until it stops; returns its last state. */
  async execute(claimed: Run): Promise<Run> {
    return new RunExecution(this.deps, claimed).go();
  }
}

class RunExecution {
  private run: Run;
  private lastNotified = 0;
  private readonly stop = new AbortController();
  private readonly connector: Connector;
  private progressChain: Promise<void> = Promise.resolve();
  /** When the last lease renewal that succeeded was sent (monotonic ms); the claim has just renewed it. */
  private lastRenewal = performance.now();
  private renewing = false;

  constructor(
    private readonly deps: ExecutorDeps,
    claimed: Run,
  ) {
    this.run = claimed;
    this.connector = deps.connectorFor(claimed);
  }

  async go(): Promise<Run> {
    const monitor = setInterval(() => void this.watch(), this.deps.pollMs);
    try {
      // Notify from the claim on: what came before (creation, approvals) was told by whoever did it.
      const history = await this.deps.store.events({ runId: this.run.id });
      const claim = [...history]
        .reverse()
        .find((e) => e.event.type === 'state' && (e.event.to === 'running' || e.event.to === 'rolling_back'));
      this.lastNotified = claim ? claim.id - 1 : (history.at(-1)?.id ?? 0);
      await this.flush();
      if (!(await this.passes(await reapLeftovers(this.checkContext(), history)))) return this.run;
      if (this.run.state === 'rolling_back') await this.rollback();
      else await this.forward();
    } catch (err) {
      if (!(err instanceof StopError)) throw err;
    } finally {
      clearInterval(monitor);
      await this.connector.close().catch(() => undefined);
      await this.flush();
    }
    return this.run;
  }

  /**
   * Cancel requests, shutdown and lease renewal, between and during steps. A store that cannot renew
   * the lease for longer than `leaseMs - margin` stops the run here (killing its remote command) before
   * the lease can expire and another replica take the run; a shorter outage kills nothing.
   */
  private async watch(): Promise<void> {
    if (this.stop.signal.aborted) return;
    if (this.deps.shutdown?.aborted) return this.stop.abort(new StopError('lost'));
    const margin = Math.max(2 * this.deps.pollMs, 0.2 * this.deps.leaseMs);
    if (performance.now() - this.lastRenewal > this.deps.leaseMs - margin) {
      return this.stop.abort(new StopError('lost'));
    }
    if (this.renewing) return; // a store that hangs is not asked again and again
    this.renewing = true;
    const sent = performance.now();
    try {
      const mine = await this.deps.store.renewLease(this.run.id, this.deps.owner, this.deps.leaseMs);
      if (!mine) return this.stop.abort(new StopError('lost'));
      this.lastRenewal = Math.max(this.lastRenewal, sent);
      const fresh = await this.deps.store.getRun(this.run.id);
      if (fresh?.cancelRequested) this.stop.abort(new StopError('cancel'));
    } catch {
      // a store hiccup: the next tick tries again, until the deadline above
    } finally {
      this.renewing = false;
    }
  }

  private async forward(): Promise<void> {
    const steps = this.run.plan.steps;
    if (!(await this.passes(await recheckFacts(this.checkContext())))) return;
    for (let i = this.run.nextStep; i < steps.length; i++) {
      const step = steps[i]!;
      if (this.stopReason() === 'cancel') return this.cancel(i, false);
      this.throwIfLost();
      const needed = approvalsNeededAt(this.run.plan, this.deps.baseApprovals(this.run), i);
      if ((await this.approvalCount()) < needed) {
        return void (await this.apply('gate', `step ${i + 1} (${step.title}) needs ${needed} approvals`));
      }
      const outcome = await this.runPhase(step, i, 'do', [step.action]);
      if (outcome === 'cancel') return this.cancel(i, step.mutates);
      if (!outcome.ok) return this.failed(i, step, outcome);
      this.run = { ...this.run, nextStep: i + 1 };
      if (!(await this.deps.store.updateRun(this.run.id, this.deps.owner, { nextStep: i + 1 }))) {
        throw new StopError('lost');
      }
    }
    await this.apply('succeed');
  }

  private checkContext(): ClaimCheckContext {
    return {
      run: this.run,
      connector: this.connector,
      freshConnector: () => this.deps.connectorFor(this.run),
      clock: this.deps.clock,
      signal: this.stop.signal,
      journal: (e) => this.journal(e),
    };
  }

  /** Moves the run to failed (or rollback_failed) when a claim check says it must not go on. */
  private async passes(verdict: ClaimVerdict): Promise<boolean> {
    if (verdict.ok) return true;
    const event = this.run.state === 'rolling_back' ? 'rollback-fail' : 'fail';
    await this.apply(event, verdict.reason, { undoNext: verdict.undoNext });
    return false;
  }

  private async failed(
    index: number,
    step: Step,
    outcome: Extract<StepOutcome, { ok: false }>,
  ): Promise<void> {
    const reason = `step ${index + 1} (${step.title}) failed: ${outcome.failure.message}`;
    // The failed step may have changed something part-way: its undo is in the rollback too, unless
    // it is known to have changed nothing (it refused up front, or one SQL statement failed).
    const undoNext = step.mutates && !outcome.unchanged ? index : index - 1;
    await this.apply('fail', reason, { undoNext });
    // A plan may demand its own rollback (a drill that stopped the primary must put it back), which
    // the inventory's policy cannot turn off: it was approved as part of the plan's hash.
    const byPolicy = this.deps.autoRollback(this.run);
    if (byPolicy || this.run.plan.rollbackOnFailure === true) {
      // Failing cleared our ownership; take the rollback straight back so no other worker can.
      const r = await this.deps.store.applyEvent(this.run.id, 'rollback', {
        actor: this.deps.owner,
        reason: byPolicy ? 'policy: roll back on failure' : 'the plan rolls back on failure',
        claim: { owner: this.deps.owner, leaseMs: this.deps.leaseMs },
      });
      if (!r.ok) throw new StopError('lost');
      this.run = r.run;
      await this.flush();
      await this.rollback();
    }
  }

  private async cancel(index: number, partial: boolean): Promise<void> {
    await this.apply('cancel', 'cancelled on request', { undoNext: partial ? index : index - 1 });
  }

  private async rollback(): Promise<void> {
    const steps = this.run.plan.steps;
    for (let j = this.run.undoNext ?? this.run.nextStep - 1; j >= 0; j--) {
      this.throwIfLost();
      const step = steps[j]!;
      if (step.mutates && step.undo) {
        const outcome = await this.runPhase(step, j, 'undo', step.undo);
        if (outcome === 'cancel' || !outcome.ok) {
          const why = outcome === 'cancel' ? 'cancelled' : outcome.failure.message;
          // Stop here: later undos may depend on this one. A new rollback resumes at this step.
          return void (await this.apply(
            'rollback-fail',
            `undo of step ${j + 1} (${step.title}) failed: ${why}`,
            {
              undoNext: j,
            },
          ));
        }
      }
      this.run = { ...this.run, undoNext: j - 1 };
      if (!(await this.deps.store.updateRun(this.run.id, this.deps.owner, { undoNext: j - 1 }))) {
        throw new StopError('lost');
      }
    }
    await this.apply('rolled-back', undefined, { undoNext: null });
  }

  /** Runs a step's actions (or its undo actions) under the step timeout, cancel and lease. */
  private async runPhase(
    step: Step,
    index: number,
    phase: 'do' | 'undo',
    actions: readonly Action[],
  ): Promise<StepOutcome | 'cancel'> {
    const target = this.run.plan.targets[step.target];
    await this.journal({ type: 'step-started', index, stepId: step.id, phase });
    const started = Date.now();
    const timeout = AbortSignal.timeout(step.timeoutMs);
    // A long copy is judged by its progress: no progress for stallMs fails it, however big it is.
    const stall = phase === 'do' && step.stallMs !== undefined ? new StallWatch(step.stallMs) : undefined;
    const signal = AbortSignal.any([this.stop.signal, timeout, ...(stall ? [stall.signal] : [])]);
    let outcome: StepOutcome;
    try {
      if (!target) throw new Error(`step ${step.id} names unknown target ${step.target}`);
      outcome = { ok: true };
      for (const action of actions) {
        outcome = await runAction(action, step.id, {
          plan: this.run.plan,
          target,
          connector: this.connector,
          clock: this.deps.clock,
          signal,
          ...(this.deps.progressReaders && { progressReaders: this.deps.progressReaders }),
          onProgress: (p) => {
            stall?.progressed();
            this.progress({ type: 'step-progress', index, stepId: step.id, ...p });
          },
          onRemoteStart: (r) =>
            this.progress({
              type: 'remote-started',
              index,
              stepId: step.id,
              phase,
              ...r,
              target: r.target ?? target.name,
            }),
        });
        if (!outcome.ok) break;
      }
    } catch (err) {
      if (this.stop.signal.aborted) {
        if (this.stopReason() === 'lost') throw this.stop.signal.reason;
        outcome = stopped('cancelled', 'cancelled while running');
      } else if (stall?.signal.aborted) {
        outcome = stopped(
          'stalled',
          `made no progress for ${Math.round(stall.ms / 1000)} s; the remote command was stopped`,
          'look at the host and the network between the nodes (a full disk? a lock?), then retry or roll back',
        );
      } else if (timeout.aborted) {
        outcome = stopped(
          'timeout',
          `did not finish within ${Math.round(step.timeoutMs / 1000)} s; the remote command was stopped`,
          'look at the host: is it slow or stuck? Then retry or roll back',
        );
      } else {
        const message = err instanceof Error ? err.message : String(err);
        outcome = { ok: false, kind: 'error', failure: { code: 'error', message } };
      }
    }
    stall?.dispose();
    await this.progressChain;
    await this.journal({
      type: 'step-finished',
      index,
      stepId: step.id,
      phase,
      durationMs: Date.now() - started,
      outcome,
    });
    return this.stopReason() === 'cancel' && !outcome.ok ? 'cancel' : outcome;
  }

  private stopReason(): Stop | undefined {
    const reason: unknown = this.stop.signal.reason;
    return this.stop.signal.aborted && reason instanceof StopError ? reason.stop : undefined;
  }

  private throwIfLost(): void {
    if (this.stopReason() === 'lost') throw this.stop.signal.reason;
  }

  private async approvalCount(): Promise<number> {
    const votes = await this.deps.store.approvals(this.run.id);
    const ok = votes.filter((v) => v.planHash === this.run.plan.hash && v.decision === 'approve');
    return new Set(ok.map((v) => v.userId)).size;
  }

  private async apply(event: RunEventType, reason?: string, patch?: RunPatch): Promise<void> {
    const r = await this.deps.store.applyEvent(this.run.id, event, {
      actor: this.deps.owner,
      owner: this.deps.owner,
      ...(reason !== undefined && { reason }),
      ...(patch && { patch }),
    });
    if (!r.ok) throw new StopError('lost');
    this.run = r.run;
    await this.flush();
  }

  private progress(event: JournalEvent): void {
    // Every progress event is journaled, in order; notifiers coalesce, the journal never drops.
    this.progressChain = this.progressChain.then(() => this.journal(event)).catch(() => undefined);
  }

  private async journal(event: JournalEvent): Promise<void> {
    await this.deps.store.append({
      runId: this.run.id,
      cluster: this.run.cluster,
      actor: this.deps.owner,
      event,
    });
    await this.flush();
  }

  /** Tells the notifier about everything journaled since last time, in journal order. */
  private async flush(): Promise<void> {
    const events = await this.deps.store.events({ runId: this.run.id, afterId: this.lastNotified });
    for (const e of events) {
      this.lastNotified = e.id;
      try {
        this.deps.notifier.notify(e, this.run);
      } catch {
        // a notifier must not break a run
      }
    }
  }
}

/** A step ended from outside (cancel, stall, timeout): a failure, with what the operator can do. */
const stopped = (code: string, message: string, hint?: string): StepOutcome => ({
  ok: false,
  kind: 'failure',
  failure: { code, message, ...(hint !== undefined && { hint }) },
});
