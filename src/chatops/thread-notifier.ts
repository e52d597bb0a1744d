import type { Json } from '../core/json';
import type { Run, StoredEvent } from '../core/run';
import type { Clock } from '../ports/clock';
import type { Notifier } from '../ports/notifier';
import {
  failureCard,
  stepFinishedReply,
  stepStartedReply,
  verdictCard,
  verdictChecks,
} from '../render/run-progress';
import { progressBar } from '../render/run-progress';
import type { ChatSurface } from './chat-surface';
import { say } from './chatops';
import { rootMessage } from './run-messages';

// A run's life in its thread: the root message kept current, one reply per step start and
// finish, a base-backup bar updated in place, the verdict card, and on failure the reason with
// its hint and the Roll back / Retry buttons. notify() only queues: the executor never waits.

export class ThreadNotifier implements Notifier {
  private chain: Promise<void> = Promise.resolve();
  private readonly progressTs = new Map<string, Promise<string | null>>();

  constructor(
    private readonly surface: ChatSurface,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  notify(e: StoredEvent, run: Run): void {
    const slack = run.meta.slack as { channel?: Json; ts?: Json } | undefined;
    if (typeof slack?.channel !== 'string' || typeof slack.ts !== 'string') return;
    const channel = slack.channel;
    const root = slack.ts;
    const ev = e.event;
    const reply = (m: { text: string; blocks?: readonly unknown[] }) =>
      this.queue(() => this.surface.post(channel, m, root).then(() => undefined));
    switch (ev.type) {
      case 'state':
        this.queue(() => this.surface.update(channel, root, rootMessage(run, this.clock.now())));
        return;
      case 'step-started':
        reply(stepStartedReply(run, ev.index, ev.phase));
        return;
      case 'step-progress': {
        if (ev.percent === undefined) return;
        const key = `${run.id}:${ev.index}`;
        const text = say(`${run.plan.steps[ev.index]?.title ?? ''}: \`${progressBar(ev.percent)}\``);
        const existing = this.progressTs.get(key);
        if (!existing) {
          const posted = new Promise<string | null>((resolve) =>
            this.queue(() =>
              this.surface.post(channel, text, root).then(
                (r) => resolve(r.ts),
                () => resolve(null),
              ),
            ),
          );
          this.progressTs.set(key, posted);
        } else {
          this.queue(async () => {
            const ts = await existing;
            if (ts) await this.surface.update(channel, ts, text);
          });
        }
        return;
      }
      case 'step-finished': {
        const checks = verdictChecks(ev.outcome);
        if (checks) reply(verdictCard(run, checks));
        reply(
          ev.outcome.ok || ev.phase === 'undo'
            ? stepFinishedReply(run, ev)
            : failureCard(run, ev.outcome.failure),
        );
        return;
      }
      default:
        return;
    }
  }

  private queue(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err: unknown) => this.onError(err));
  }
}
