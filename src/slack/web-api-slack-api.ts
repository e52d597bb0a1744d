import type { webApi } from '@slack/bolt';
import { RATE_LIMITED, type SlackApi, type SlackFile, type SlackMessage } from './slack-outbox';

// SlackApi over @slack/web-api's WebClient (Bolt's `app.client`). The client must not queue and
// retry 429s itself (by default it pauses its whole queue for up to ~30 minutes, all channels at
// once): build it with `slackClientOptions`, so a 429 throws WebAPIRateLimitedError
// `{ code: 'slack_webapi_rate_limited_error', retryAfter }` at once and SlackOutbox waits per channel.

/** For `new WebClient(token, …)` or Bolt's `clientOptions`. */
export const slackClientOptions = {
  rejectRateLimitedCalls: true,
  retryConfig: { retries: 0 },
} as const satisfies webApi.WebClientOptions;

export type SlackWebClient = Pick<webApi.WebClient, 'chat' | 'filesUploadV2'>;

type Blocks = (webApi.KnownBlock | webApi.Block)[];

const blocksOf = (m: SlackMessage): { blocks?: Blocks } =>
  m.blocks ? { blocks: [...m.blocks] as Blocks } : {};

/** A platform error that is a rate limit (`ok: false, error: 'ratelimited'`) becomes the 429 error shape. */
function normalised(err: unknown): unknown {
  const data = (
    err as { code?: unknown; data?: { error?: unknown; response_metadata?: { retryAfter?: unknown } } }
  )?.data;
  if (
    (err as { code?: unknown } | null)?.code === 'slack_webapi_platform_error' &&
    (data?.error === 'ratelimited' || data?.error === 'rate_limited')
  ) {
    const retryAfter = data.response_metadata?.retryAfter;
    return Object.assign(new Error(`Slack rate limited the call (${String(data.error)})`), {
      code: RATE_LIMITED,
      retryAfter: typeof retryAfter === 'number' ? retryAfter : 1,
      cause: err,
    });
  }
  return err;
}

export class WebApiSlackApi implements SlackApi {
  constructor(private readonly client: SlackWebClient) {}

  async postMessage(
    args: SlackMessage & { readonly channel: string; readonly threadTs?: string },
  ): Promise<{ ts: string }> {
    try {
      const r = await this.client.chat.postMessage({
        channel: args.channel,
        text: args.text,
        ...blocksOf(args),
        ...(args.threadTs !== undefined && { thread_ts: args.threadTs }),
      });
      if (typeof r.ts !== 'string') {
        throw Object.assign(new Error('chat.postMessage answered without a ts'), { code: 'slack_no_ts' });
      }
      return { ts: r.ts };
    } catch (err) {
      throw normalised(err);
    }
  }

  async update(args: SlackMessage & { readonly channel: string; readonly ts: string }): Promise<void> {
    try {
      await this.client.chat.update({
        channel: args.channel,
        ts: args.ts,
        text: args.text,
        ...blocksOf(args),
      });
    } catch (err) {
      throw normalised(err);
    }
  }

  async uploadFile(
    args: SlackFile & { readonly channel: string; readonly threadTs?: string },
  ): Promise<void> {
    const about = {
      filename: args.filename,
      ...(args.title !== undefined && { title: args.title }),
      ...(args.initialComment !== undefined && { initial_comment: args.initialComment }),
    };
    const where =
      args.threadTs === undefined
        ? { channel_id: args.channel }
        : { channel_id: args.channel, thread_ts: args.threadTs };
    try {
      await (typeof args.content === 'string'
        ? this.client.filesUploadV2({ ...about, ...where, content: args.content })
        : this.client.filesUploadV2({ ...about, ...where, file: args.content }));
    } catch (err) {
      throw normalised(err);
    }
  }
}
