import type { types } from '@slack/bolt';
import type { Clock } from '../ports/clock';

// The one way kbops talks to Slack's Web API. One serialised queue per channel, paced to at most
// one call per `minIntervalMs` (Slack allows about one message per second per channel); a 429 makes
// that channel wait `retryAfter` and retry the same call while the other channels carry on. Updates
// of one message coalesce (only the newest content is sent); posts are never dropped and keep their
// order. Nothing here throws to the caller: failures go to `onError`.

export type SlackBlock = types.KnownBlock | types.Block;

export interface SlackMessage {
  readonly text: string;
  readonly blocks?: readonly SlackBlock[];
}

/** A message's ts, or the promise of one still being posted (null: that post failed). */
export type TsRef = string | Promise<string | null>;

export interface SlackFile {
  readonly filename: string;
  readonly content: string | Buffer;
  readonly title?: string;
  readonly initialComment?: string;
}

/** The few Web API calls kbops makes. Errors carry `code` (and `retryAfter`, seconds, on a 429). */
export interface SlackApi {
  postMessage(args: SlackMessage & { readonly channel: string; readonly threadTs?: string }): Promise<{
    readonly ts: string;
  }>;
  update(args: SlackMessage & { readonly channel: string; readonly ts: string }): Promise<void>;
  uploadFile(args: SlackFile & { readonly channel: string; readonly threadTs?: string }): Promise<void>;
}

/** @slack/web-api's `ErrorCode.RateLimitedError`, thrown with `retryAfter` when `rejectRateLimitedCalls` is set. */
export const RATE_LIMITED = 'slack_webapi_rate_limited_error';

export interface SlackApiError {
  readonly code: string;
  readonly retryAfter?: number;
  readonly message?: string;
}

export interface OutboxFailure {
  readonly op: 'post' | 'update' | 'upload';
  readonly channel: string;
  /** The coalescing key, for an update. */
  readonly key?: string;
  /** Calls made (0 when it failed before calling Slack: a missing thread root, a throwing render). */
  readonly attempts: number;
  /** The error's `code` when it has one (e.g. `slack_webapi_platform_error`), else `unknown`. */
  readonly code: string;
  readonly error: unknown;
}

export interface SlackOutboxOptions {
  /** Least time between two calls in one channel (default 1000 ms). */
  readonly minIntervalMs?: number;
  /** Calls made for one operation before a rate limit is given up on (default 5). */
  readonly maxAttempts?: number;
  /** Told about every operation that was given up. Never throws to the caller. */
  readonly onError?: (failure: OutboxFailure) => void;
  /** Told about every 429 Slack answers (the call is then retried, or given up after maxAttempts). */
  readonly onRateLimited?: (limited: RateLimited) => void;
}

export interface RateLimited {
  readonly op: 'post' | 'update' | 'upload';
  readonly channel: string;
  /** How long this channel now waits, in ms (Slack's Retry-After). */
  readonly retryAfterMs: number;
}

type Render = SlackMessage | (() => SlackMessage);

type Op =
  | { kind: 'post'; render: Render; threadTs?: TsRef; done: (ts: string | null) => void }
  | { kind: 'update'; key: string; ts: TsRef; render: Render }
  | { kind: 'upload'; file: SlackFile; threadTs?: TsRef; done: (ok: boolean) => void };

interface Lane {
  readonly channel: string;
  readonly queue: Op[];
  /** Queued (not yet started) updates by key: a newer update replaces the content of these. */
  readonly pending: Map<string, Extract<Op, { kind: 'update' }>>;
  running: Promise<void> | null;
  lastCallAt: number;
}

class MissingTs extends Error {
  readonly code = 'slack_outbox_missing_ts';
}

const codeOf = (err: unknown): string => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'unknown';
};

/** How long Slack asked us to wait, in ms, if the error is a rate limit. */
export function retryAfterMs(err: unknown): number | undefined {
  if (codeOf(err) !== RATE_LIMITED) return undefined;
  const s = (err as SlackApiError).retryAfter;
  return typeof s === 'number' && Number.isFinite(s) && s >= 0 ? s * 1000 : 1000;
}

const rendered = (r: Render): SlackMessage => (typeof r === 'function' ? r() : r);

export class SlackOutbox {
  private readonly lanes = new Map<string, Lane>();
  private readonly minIntervalMs: number;
  private readonly maxAttempts: number;

  constructor(
    private readonly api: SlackApi,
    private readonly clock: Clock,
    private readonly options: SlackOutboxOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  }

  /**
   * Queues a message (a reply when `threadTs` is given; it waits for a root still being posted).
   * Resolves with its ts once posted, or null if it was given up (reported to onError). Never rejects.
   */
  post(channel: string, message: Render, options: { threadTs?: TsRef } = {}): Promise<string | null> {
    return new Promise((done) =>
      this.enqueue(channel, { kind: 'post', render: message, threadTs: options.threadTs, done }),
    );
  }

  /**
   * Queues an edit of message `ts`. Updates of one message coalesce: while one is still queued, a
   * newer one replaces its content (the queued position is kept). A known ts is its own key
   * (`msg:<ts>`, whoever updates it); `key` names a message whose ts is still a promise (e.g. a
   * progress reply being posted). `render` runs when the call is made, so the newest state is sent.
   */
  update(channel: string, ts: TsRef, key: string, render: Render): void {
    const lane = this.lane(channel);
    const id = typeof ts === 'string' ? `msg:${ts}` : key;
    const queued = lane.pending.get(id);
    if (queued) {
      queued.ts = ts;
      queued.render = render;
      return;
    }
    const op = { kind: 'update' as const, key: id, ts, render };
    lane.pending.set(id, op);
    this.enqueue(channel, op);
  }

  /** Queues a file upload (filesUploadV2), in order with the posts. Resolves false if given up. */
  upload(channel: string, file: SlackFile, options: { threadTs?: TsRef } = {}): Promise<boolean> {
    return new Promise((done) =>
      this.enqueue(channel, { kind: 'upload', file, threadTs: options.threadTs, done }),
    );
  }

  /** Resolves when every channel's queue is empty and nothing is in flight. */
  async flush(): Promise<void> {
    for (;;) {
      const running = [...this.lanes.values()].flatMap((l) => (l.running ? [l.running] : []));
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Operations queued (not yet started) for a channel, or for all channels. */
  queued(channel?: string): number {
    if (channel !== undefined) return this.lanes.get(channel)?.queue.length ?? 0;
    return [...this.lanes.values()].reduce((n, l) => n + l.queue.length, 0);
  }

  private lane(channel: string): Lane {
    let lane = this.lanes.get(channel);
    if (!lane) {
      lane = { channel, queue: [], pending: new Map(), running: null, lastCallAt: -Infinity };
      this.lanes.set(channel, lane);
    }
    return lane;
  }

  private enqueue(channel: string, op: Op): void {
    const lane = this.lane(channel);
    lane.queue.push(op);
    lane.running ??= this.drain(lane);
  }

  private async drain(lane: Lane): Promise<void> {
    // Let the caller return first (notifiers only enqueue), and let a burst of updates coalesce.
    await Promise.resolve();
    while (lane.queue.length > 0) {
      // Wait for this channel's turn with the op still queued, so newer content can replace it.
      await this.pace(lane);
      const op = lane.queue.shift();
      if (!op) break;
      if (op.kind === 'update' && lane.pending.get(op.key) === op) lane.pending.delete(op.key);
      try {
        await this.perform(lane, op);
      } catch (err) {
        // perform reports its own failures; this is a last guard so one lane never dies
        this.report({ op: op.kind, channel: lane.channel, attempts: 0, code: codeOf(err), error: err });
      }
    }
    lane.running = null;
  }

  private async perform(lane: Lane, op: Op): Promise<void> {
    const channel = lane.channel;
    const key = op.kind === 'update' ? { key: op.key } : {};
    let attempts = 0;
    const giveUp = (error: unknown): void => {
      this.report({ op: op.kind, channel, ...key, attempts, code: codeOf(error), error });
      if (op.kind === 'post') op.done(null);
      if (op.kind === 'upload') op.done(false);
    };
    let call: () => Promise<void>;
    try {
      call = await this.prepare(channel, op);
    } catch (err) {
      return giveUp(err);
    }
    for (;;) {
      await this.pace(lane);
      attempts++;
      const sent = call(); // the request starts synchronously: time it from after that
      lane.lastCallAt = this.clock.now().getTime();
      try {
        return await sent;
      } catch (err) {
        const wait = retryAfterMs(err);
        if (wait !== undefined)
          this.tell(() => this.options.onRateLimited?.({ op: op.kind, channel, retryAfterMs: wait }));
        if (wait === undefined || attempts >= this.maxAttempts) return giveUp(err);
        await this.clock.sleep(wait);
        if (op.kind === 'update') {
          // Content queued for the same message while we waited is newer: send that instead.
          const newer = lane.pending.get(op.key);
          if (newer) {
            lane.pending.delete(op.key);
            lane.queue.splice(lane.queue.indexOf(newer), 1);
            op.render = newer.render;
            try {
              call = await this.prepare(channel, op);
            } catch (e) {
              return giveUp(e);
            }
          }
        }
      }
    }
  }

  /** Resolves the ts an operation needs and renders it; returns the call (async: never throws) to make. */
  private async prepare(channel: string, op: Op): Promise<() => Promise<void>> {
    const threadTs = op.kind === 'update' ? undefined : await op.threadTs;
    if (threadTs === null) throw new MissingTs('the thread root was not posted');
    const thread = threadTs === undefined ? {} : { threadTs };
    switch (op.kind) {
      case 'post': {
        const message = rendered(op.render);
        return async () => op.done((await this.api.postMessage({ ...message, channel, ...thread })).ts);
      }
      case 'update': {
        const ts = await op.ts;
        if (ts === null) throw new MissingTs('the message to update was not posted');
        const message = rendered(op.render);
        return async () => this.api.update({ ...message, channel, ts });
      }
      case 'upload':
        return async () => {
          await this.api.uploadFile({ ...op.file, channel, ...thread });
          op.done(true);
        };
    }
  }

  /** Waits until this channel's last call is at least minIntervalMs ago. */
  private async pace(lane: Lane): Promise<void> {
    for (;;) {
      const wait = lane.lastCallAt + this.minIntervalMs - this.clock.now().getTime();
      if (wait <= 0) return;
      await this.clock.sleep(wait);
    }
  }

  private report(failure: OutboxFailure): void {
    this.tell(() => this.options.onError?.(failure));
  }

  private tell(hook: () => void): void {
    try {
      hook();
    } catch {
      // a hook that throws must not stop the queue
    }
  }
}
