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
}

export class Engine {
  private readonly running = new Set<Promise<unknown>>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(private readonly deps: EngineDeps) {}

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
      const p: Promise<unknown> = this.deps.executor
        .execute(run)
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

  /** Resolves when nothing is being executed by this process. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.race([...this.running]);
  }
}
