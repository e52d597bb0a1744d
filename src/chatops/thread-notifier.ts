import type { Json } from '../core/json';
import type { Run, StoredEvent } from '../core/run';
import type { Notifier } from '../ports/notifier';
import type { ChatSurface } from './chat-surface';
import { say } from './chatops';
import { planRootMessage, rootFromMeta } from './run-messages';

// A run's life in its thread: the root message kept current, one reply per step start and
// finish, a base-backup bar updated in place, the verdict card, and on failure the reason with
// its hint. notify() only queues: the executor is never held up by the chat.

const bar = (p: number) => `\`${'█'.repeat(Math.round(p / 5)).padEnd(20, '░')}\` ${p}%`;

export class ThreadNotifier implements Notifier {
  private chain: Promise<void> = Promise.resolve();
  private readonly progressTs = new Map<string, Promise<string | null>>();

  constructor(
    private readonly surface: ChatSurface,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  notify(e: StoredEvent, run: Run): void {
    const slack = run.meta.slack as { channel?: Json; ts?: Json } | undefined;
    if (typeof slack?.channel !== 'string' || typeof slack.ts !== 'string') return;
    const channel = slack.channel;
    const root = slack.ts;
    const ev = e.event;
    const total = run.plan.steps.length;
    const title = (i: number) => run.plan.steps[i]?.title ?? `step ${i + 1}`;
    const reply = (text: string) =>
      this.queue(() => this.surface.post(channel, say(text), root).then(() => undefined));
    switch (ev.type) {
      case 'state': {
        const { preflight, tally } = rootFromMeta(run);
        this.queue(() =>
          this.surface.update(channel, root, planRootMessage(run, tally, preflight, ev.reason)),
        );
        if (ev.to === 'failed' || ev.to === 'rollback_failed')
          reply(`:x: *${ev.to.replace('_', ' ')}*: ${ev.reason ?? ''}`);
        if (ev.to === 'succeeded' || ev.to === 'rolled_back')
          reply(`:white_check_mark: run ${run.id} ${ev.to.replace('_', ' ')}`);
        return;
      }
      case 'step-started':
        reply(
          `${ev.phase === 'undo' ? ':rewind: undo ' : ''}*[${ev.index + 1}/${total}]* ${title(ev.index)} …`,
        );
        return;
      case 'step-progress': {
        if (ev.percent === undefined) return;
        const key = `${run.id}:${ev.index}`;
        const text = `${title(ev.index)}: ${bar(ev.percent)}`;
        const existing = this.progressTs.get(key);
        if (!existing) {
          const posted = new Promise<string | null>((resolve) =>
            this.queue(() =>
              this.surface.post(channel, say(text), root).then(
                (r) => resolve(r.ts),
                () => resolve(null),
              ),
            ),
          );
          this.progressTs.set(key, posted);
        } else {
          this.queue(async () => {
            const ts = await existing;
            if (ts) await this.surface.update(channel, ts, say(text));
          });
        }
        return;
      }
      case 'step-finished': {
        const o = ev.outcome;
        const secs = (ev.durationMs / 1000).toFixed(1);
        const checks = (o.detail as { checks?: Json } | undefined)?.checks;
        if (Array.isArray(checks)) {
          const lines = (
            checks as Array<{ name: string; ok: boolean; detail: string; waitedMs: number }>
          ).map(
            (c) =>
              `${c.ok ? ':white_check_mark:' : ':x:'} ${c.name}: ${c.detail}${c.waitedMs > 0 ? ` (${c.waitedMs} ms)` : ''}`,
          );
          reply(`*Verdict* for ${String(run.plan.params.name ?? '')}:\n${lines.join('\n')}`);
        }
        reply(
          o.ok
            ? `:heavy_check_mark: [${ev.index + 1}/${total}] done in ${secs} s`
            : `:x: [${ev.index + 1}/${total}] failed after ${secs} s: ${o.failure.message}${o.failure.hint ? `\n:point_right: ${o.failure.hint}` : ''}`,
        );
        return;
      }
      default:
        return;
    }
  }

  /** Resolves when everything queued so far has been sent (tests, shutdown). */
  async idle(): Promise<void> {
    let last: Promise<void>;
    do {
      last = this.chain;
      await last;
    } while (last !== this.chain);
  }

  private queue(work: () => Promise<void>): void {
    this.chain = this.chain.then(work).catch((err: unknown) => this.onError(err));
  }
}
