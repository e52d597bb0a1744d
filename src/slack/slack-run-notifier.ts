import type { Json } from '../core/json';
import type { JournalEvent, Run, StoredEvent } from '../core/run';
import type { CheckResult } from '../engine/run-verdict';
import type { Notifier } from '../ports/notifier';
import type { SlackMessage, SlackOutbox, TsRef } from './slack-outbox';

// Tells a run's Slack thread what its journal says. The root message (run.meta.slack) shows the
// run's state and is edited in place; each step start and end is a reply; a step's progress is one
// reply edited in place; a verdict and a failure are cards. notify() only enqueues: the outbox
// paces, coalesces and reports errors, so the executor is never held nor thrown at.

export type StepStartedEvent = Extract<JournalEvent, { type: 'step-started' }>;
export type StepProgressEvent = Extract<JournalEvent, { type: 'step-progress' }>;
export type StepFinishedEvent = Extract<JournalEvent, { type: 'step-finished' }>;

/** The Block Kit builders (src/render), injected. */
export interface SlackRunRenderers {
  renderRoot(run: Run): SlackMessage;
  renderStepStarted(run: Run, event: StepStartedEvent): SlackMessage;
  renderStepFinished(run: Run, event: StepFinishedEvent): SlackMessage;
  renderProgress(run: Run, event: StepProgressEvent): SlackMessage;
  renderVerdict(run: Run, checks: readonly CheckResult[]): SlackMessage;
  /** For a step-finished event whose outcome is not ok. */
  renderFailure(run: Run, event: StepFinishedEvent): SlackMessage;
}

/** The part of SlackOutbox the notifier uses. */
export type RunOutbox = Pick<SlackOutbox, 'post' | 'update' | 'flush'>;

export interface SlackThread {
  readonly channel: string;
  readonly ts: string;
}

export interface SlackRunNotifierOptions {
  /** Told about a notify() that failed before reaching the outbox (it never throws to the executor). */
  readonly onError?: (error: unknown, event: StoredEvent) => void;
}

const isObject = (j: Json | undefined): j is { readonly [key: string]: Json } =>
  typeof j === 'object' && j !== null && !Array.isArray(j);

/** The run's root message, from `run.meta.slack = { channel, ts }`; null when it has none. */
export function slackThreadOf(run: Run): SlackThread | null {
  const slack = run.meta?.slack;
  if (!isObject(slack)) return null;
  const { channel, ts } = slack;
  return typeof channel === 'string' && channel && typeof ts === 'string' && ts ? { channel, ts } : null;
}

/** The verdict's check results, from a step-finished outcome's `detail.checks`; null when it has none. */
export function verdictChecksOf(event: StepFinishedEvent): CheckResult[] | null {
  const detail = event.outcome.detail;
  if (!isObject(detail) || !Array.isArray(detail.checks)) return null;
  return (detail.checks as readonly Json[]).filter(isObject).map((c) => ({
    name: typeof c.name === 'string' ? c.name : '?',
    ok: c.ok === true,
    waitedMs: typeof c.waitedMs === 'number' ? c.waitedMs : 0,
    detail: typeof c.detail === 'string' ? c.detail : '',
  }));
}

export class SlackRunNotifier implements Notifier {
  /** Progress replies by `${runId}:${index}`: the ts (promise) and the outbox key of their updates. */
  private readonly progress = new Map<string, { ts: TsRef; key: string }>();

  constructor(
    private readonly outbox: RunOutbox,
    private readonly render: SlackRunRenderers,
    private readonly options: SlackRunNotifierOptions = {},
  ) {}

  notify(stored: StoredEvent, run: Run): void {
    try {
      const thread = slackThreadOf(run);
      if (thread) this.dispatch(stored, run, thread);
    } catch (err) {
      try {
        this.options.onError?.(err, stored);
      } catch {
        // nothing may escape to the executor
      }
    }
  }

  /** Resolves when everything notified so far has been sent (or given up). */
  flush(): Promise<void> {
    return this.outbox.flush();
  }

  private dispatch(stored: StoredEvent, run: Run, thread: SlackThread): void {
    const { channel, ts: root } = thread;
    const reply = (render: () => SlackMessage) => this.outbox.post(channel, render, { threadTs: root });
    const event = stored.event;
    switch (event.type) {
      case 'state':
      case 'approval':
        this.outbox.update(channel, root, `msg:${root}`, () => this.render.renderRoot(run));
        if (event.type === 'state' && event.to !== 'running' && event.to !== 'rolling_back') {
          this.forgetProgress(run.id);
        }
        return;
      case 'step-started':
        this.progress.delete(`${run.id}:${event.index}`);
        void reply(() => this.render.renderStepStarted(run, event));
        return;
      case 'step-progress': {
        const id = `${run.id}:${event.index}`;
        const known = this.progress.get(id);
        const render = () => this.render.renderProgress(run, event);
        if (known) this.outbox.update(channel, known.ts, known.key, render);
        else this.progress.set(id, { ts: reply(render), key: `progress:${channel}:${id}:${stored.id}` });
        return;
      }
      case 'step-finished': {
        this.progress.delete(`${run.id}:${event.index}`);
        const checks = verdictChecksOf(event);
        if (checks) void reply(() => this.render.renderVerdict(run, checks));
        else if (event.outcome.ok) void reply(() => this.render.renderStepFinished(run, event));
        if (!event.outcome.ok) void reply(() => this.render.renderFailure(run, event));
        return;
      }
      default:
        return;
    }
  }

  private forgetProgress(runId: string): void {
    for (const id of this.progress.keys()) if (id.startsWith(`${runId}:`)) this.progress.delete(id);
  }
}
