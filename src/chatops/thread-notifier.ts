import type { ApprovalPolicy } from '../core/approval-policy';
import type { Json } from '../core/json';
import type { SealedPlan } from '../core/plan';
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
import type { AnyRunbook } from '../runbooks/runbook';
import type { ChatSurface } from './chat-surface';
import { say } from './chatops';
import { FOLLOW_UP_STATES, followUpMessageFor } from './follow-ups';
import { rootMessage } from './run-messages';

// A run's life in its thread: the root message kept current, one reply per step start and
// finish, a base-backup bar updated in place, the verdict card, and on failure the reason with
// its hint and the Roll back / Retry buttons, and once it ends, what the runbooks offer to do
// next. notify() only queues: the executor never waits.

export interface ThreadOptions {
  /** The run's effective policy, so the redrawn root keeps saying what it needs. */
  readonly policyOf?: (plan: SealedPlan) => Pick<ApprovalPolicy, 'required' | 'allowSelfApproval'>;
  /** Every registered runbook: each is asked what could follow a run that ended. */
  readonly runbooks?: readonly AnyRunbook[];
}

export class ThreadNotifier implements Notifier {
  private chain: Promise<void> = Promise.resolve();
  private readonly progressTs = new Map<string, Promise<string | null>>();

  constructor(
    private readonly surface: ChatSurface,
    private readonly clock: Clock,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly options: ThreadOptions = {},
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
      case 'state': {
        const policy = this.options.policyOf?.(run.plan);
        this.queue(() =>
          this.surface.update(channel, root, rootMessage(run, this.clock.now(), policy ? { policy } : {})),
        );
        const ended = ev.to;
        if (FOLLOW_UP_STATES.has(ended))
          // After the step replies and the verdict, which were queued before this event.
          this.queue(async () => {
            const offers = followUpMessageFor(run, ended, this.options.runbooks ?? [], this.onError);
            if (offers) await this.surface.post(channel, offers, root);
          });
        return;
      }
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
