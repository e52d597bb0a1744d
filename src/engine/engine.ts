import type { Run } from '../core/run';
import type { Clock } from '../ports/clock';
import type { RunStore } from '../ports/run-store';
import type { Executor } from './executor';

// The worker loop of one kbops process: expire stale approvals, mark orphaned runs interrupted,
// claim approved runs (never one another replica holds) and execute them.

export interface EngineDeps {
  readonly store: RunStore;
  readonly executor: Executor;
  readonly clock: Clock;
  readonly owner: string;
  readonly leaseMs: number;
  readonly pollMs: number;
  /** Runs executed at the same time by this process (one per cluster at most, by the lock). */
  readonly maxConcurrent: number;
  readonly onError?: (err: unknown) => void;
  /**
   * The controller whose signal the executor watches (ExecutorDeps.shutdown): shutdown() aborts it, so
   * the runs in hand stop at their current step. Without it, shutdown() can only wait for them.
   */
  readonly shutdown?: AbortController;
}

export class Engine {
  private readonly running = new Set<Promise<unknown>>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  /** shutdown() was called: runs in hand are given back as interrupted, none is started. */
  private handingBack = false;
  private lastTick: Date | undefined;

  constructor(private readonly deps: EngineDeps) {}

  /** When the worker loop last finished a round without an error (health: a hung loop stops it). */
  lastTickAt(): Date | undefined {
    return this.lastTick;
  }

  /** Marks this process's own runs from before a restart as interrupted, then starts polling. */
  async start(): Promise<Run[]> {
    const interrupted = await this.deps.store.interruptOrphans(this.deps.owner);
    this.loop = this.poll();
    return interrupted;
  }

  /** One round of housekeeping and claiming; returns the runs it started. */
  async tick(): Promise<Run[]> {
    await this.deps.store.expireDue();
    await this.deps.store.interruptOrphans();
    const started: Run[] = [];
    while (this.running.size < this.deps.maxConcurrent && !this.stopping.signal.aborted) {
      const run = await this.deps.store.claimNext(this.deps.owner, this.deps.leaseMs);
      if (!run) break;
      started.push(run);
      // Claimed while shutting down: hand it straight back, before any step runs.
      const execution = this.handingBack ? Promise.resolve() : this.deps.executor.execute(run);
      const p: Promise<unknown> = execution
        .catch((err: unknown) => this.deps.onError?.(err))
        .then(() => this.handBack(run))
        .catch((err: unknown) => this.deps.onError?.(err))
        .finally(() => this.running.delete(p));
      this.running.add(p);
    }
    return started;
  }

  private async poll(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        await this.tick();
        this.lastTick = this.deps.clock.now();
      } catch (err) {
        this.deps.onError?.(err);
      }
      await this.deps.clock.sleep(this.deps.pollMs, this.stopping.signal).catch(() => undefined);
    }
  }

  /** Stops claiming and waits for the runs in hand (their steps end as they would). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await Promise.all([...this.running]);
  }

  /**
   * For SIGTERM: stops claiming; stops the runs in hand at their current step (their remote commands
   * killed, within one executor poll plus the SSH kill); hands each back as `interrupted` ("stopped by
   * shutdown"), ready for a resume or a rollback; and resolves within `graceMs` whatever happens. A
   * run still in hand at the deadline keeps its lease until it expires, and is then interrupted by any
   * replica (or by this one's restart); its remote command dies with the SSH session in any case.
   */
  async shutdown(graceMs: number): Promise<{ readonly stillRunning: number }> {
    this.handingBack = true;
    this.stopping.abort();
    this.deps.shutdown?.abort();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    const drained = (async () => {
      await this.loop;
      await this.idle();
    })();
    await Promise.race([drained, deadline]);
    clearTimeout(timer);
    return { stillRunning: this.running.size };
  }

  /** After shutdown: gives a run this process still owns back as interrupted (any other state stays). */
  private async handBack(run: Run): Promise<void> {
    if (!this.handingBack) return;
    await this.deps.store.applyEvent(run.id, 'interrupt', {
      actor: this.deps.owner,
      owner: this.deps.owner,
      expect: ['running', 'rolling_back'],
      reason: 'stopped by shutdown: the process was asked to stop; resume or roll back',
    });
  }

  /** Resolves when nothing is being executed by this process. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.race([...this.running]);
  }
}
