import { RateBuckets, type BucketConfig } from './fake-slack-http';

export type { BucketConfig } from './fake-slack-http';

/** One request the fake answered, in arrival order. `at` is ms since the fake started (its clock). */
export interface RecordedCall {
  /** A Web API method, or `response_url` / `file_upload` for posts to those URLs on the fake. */
  readonly method: string;
  /** Decoded arguments (JSON-valued form fields parsed), without the token. */
  readonly args: Record<string, unknown>;
  readonly token: string | undefined;
  readonly at: number;
  readonly status: number;
  readonly response: Record<string, unknown>;
}

/** A message's content after one chat.update or response_url `replace_original`. */
export interface MessageRevision {
  readonly at: number;
  readonly via: 'chat.update' | 'response_url';
  readonly text: string;
  readonly blocks: unknown[] | undefined;
}

export interface FakeMessage {
  readonly channel: string;
  readonly ts: string;
  /** Set on thread replies only (Slack also sets it on roots that have replies; the fake does not). */
  readonly thread_ts: string | undefined;
  /** Current content: the last revision, or what was posted. */
  text: string;
  blocks: unknown[] | undefined;
  /** Slack cuts `text` past 40,000 characters instead of refusing it. */
  truncated: boolean;
  readonly user: string;
  readonly files: readonly string[];
  readonly postedAt: number;
  /** What was first posted (text and blocks above are the current content). */
  readonly posted: { readonly text: string; readonly blocks: unknown[] | undefined };
  /** Every chat.update / replace_original in order (the first post is not in it). */
  readonly updates: MessageRevision[];
  deleted: boolean;
}

export interface FakeEphemeral {
  readonly channel: string;
  readonly user: string;
  readonly thread_ts: string | undefined;
  readonly message_ts: string;
  readonly text: string;
  readonly blocks: unknown[] | undefined;
  readonly at: number;
}

/** One accepted post to a response_url (refused posts are only in `calls`). */
export interface FakeResponsePost {
  readonly id: string;
  /** 1..5: which use of the URL this was. */
  readonly use: number;
  readonly at: number;
  readonly text: string;
  readonly blocks: unknown[] | undefined;
  readonly response_type: 'ephemeral' | 'in_channel';
  readonly replace_original: boolean;
  readonly delete_original: boolean;
  /** The ts of the channel message it changed or created, when it did. */
  readonly appliedTo: string | undefined;
}

export interface FakeFile {
  readonly id: string;
  readonly filename: string;
  readonly length: number;
  title: string | undefined;
  content: Buffer | undefined;
  channel: string | undefined;
  thread_ts: string | undefined;
  initial_comment: string | undefined;
  completed: boolean;
}

export interface FakeView {
  readonly id: string;
  hash: string;
  /** The current view; `opened` is the first version. */
  view: Record<string, unknown>;
  readonly opened: Record<string, unknown>;
  readonly openedAt: number;
  readonly updates: { readonly at: number; readonly view: Record<string, unknown> }[];
}

export interface SlackIdentity {
  readonly teamId: string;
  readonly team: string;
  readonly userId: string;
  readonly user: string;
  readonly botId: string;
}

/** Extra fields are returned as they are, so tests can give users what the code under test reads. */
export type FakeUser = Readonly<Record<string, unknown>>;
export type FakeChannel = Readonly<Record<string, unknown>>;

export type RateLimitedMethod = 'chat.postMessage' | 'chat.update';

export interface FakeSlackOptions {
  /** When set, any other token gets `invalid_auth`; otherwise any non-empty token is accepted. */
  readonly token?: string;
  readonly identity?: Partial<SlackIdentity>;
  /** The fake's clock (ms). Inject one to cross the 3 s / 30 min windows without waiting. */
  readonly now?: () => number;
  /** `false` turns every bucket off; a method set to `false` turns just that one off. */
  readonly rateLimits?: false | Partial<Record<RateLimitedMethod, BucketConfig | false>>;
  /** users.info answers. Omitted: every user id exists (a synthesised profile). Given: only these. */
  readonly users?: Record<string, FakeUser>;
  /** usergroups.users.list answers (usergroup id → user ids). Also editable later via `usergroups`. */
  readonly usergroups?: Record<string, readonly string[]>;
  /** conversations.info answers. Omitted: every channel exists. Given: others are `channel_not_found`. */
  readonly channels?: Record<string, FakeChannel>;
  readonly triggerTtlMs?: number;
  readonly responseUrlMaxUses?: number;
  readonly responseUrlTtlMs?: number;
  /** JSON size of `blocks` past which messages are refused with `msg_blocks_too_long`. */
  readonly maxBlocksJsonChars?: number;
  /** Delay before every Web API answer, to make slow-Slack paths observable. */
  readonly latencyMs?: number;
}

// Slack's documented posting limit is about 1 message per second per channel with short bursts
// tolerated; chat.update is Tier 3 (50+ per minute), which Slack counts per workspace, not channel.
export const DEFAULT_RATE_LIMITS: Record<RateLimitedMethod, BucketConfig> = {
  'chat.postMessage': { capacity: 3, refillPerSecond: 1, perChannel: true },
  'chat.update': { capacity: 50, refillPerSecond: 50 / 60, perChannel: false },
};

const DEFAULT_IDENTITY: SlackIdentity = {
  teamId: 'T0KBOPS',
  team: 'kbops-test',
  userId: 'U0KBOPSBOT',
  user: 'kbops',
  botId: 'B0KBOPS',
};

interface ResponseUrlState {
  readonly mintedAt: number;
  uses: number;
  readonly channel: string | undefined;
  readonly messageTs: string | undefined;
}

/** Everything the fake remembers; the HTTP layer and method handlers both work on it. */
export class FakeSlackState {
  readonly calls: RecordedCall[] = [];
  readonly messages: FakeMessage[] = [];
  readonly ephemerals: FakeEphemeral[] = [];
  readonly responses: FakeResponsePost[] = [];
  readonly files: FakeFile[] = [];
  readonly views: FakeView[] = [];
  readonly usergroups: Map<string, string[]>;
  readonly users: Map<string, FakeUser> | undefined;
  readonly channels: Map<string, FakeChannel> | undefined;
  readonly triggers = new Map<string, { readonly mintedAt: number; used: boolean }>();
  readonly responseUrls = new Map<string, ResponseUrlState>();
  /** Forced 429s per method: the Retry-After of each one still to be served. */
  readonly injected429 = new Map<string, number[]>();
  readonly identity: SlackIdentity;
  readonly buckets: RateBuckets;
  readonly startedAt: number;
  readonly now: () => number;
  private lastMicros = 0;
  private readonly counters = new Map<string, number>();

  constructor(readonly options: FakeSlackOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.identity = { ...DEFAULT_IDENTITY, ...options.identity };
    this.buckets = new RateBuckets(this.now);
    this.usergroups = new Map(Object.entries(options.usergroups ?? {}).map(([k, v]) => [k, [...v]]));
    this.users = options.users ? new Map(Object.entries(options.users)) : undefined;
    this.channels = options.channels ? new Map(Object.entries(options.channels)) : undefined;
  }

  elapsed(): number {
    return this.now() - this.startedAt;
  }

  rateLimit(method: RateLimitedMethod): BucketConfig | undefined {
    if (this.options.rateLimits === false) return undefined;
    const configured = this.options.rateLimits?.[method];
    if (configured === false) return undefined;
    return configured ?? DEFAULT_RATE_LIMITS[method];
  }

  /** Slack-shaped ts ("seconds.micros"), strictly increasing so ordering by ts matches posting order. */
  mintTs(): string {
    this.lastMicros = Math.max(Math.floor(this.now() * 1000), this.lastMicros + 1);
    return `${Math.floor(this.lastMicros / 1e6)}.${String(this.lastMicros % 1e6).padStart(6, '0')}`;
  }

  /** Deterministic ids (F0000001, V0000001, ...) so transcripts and assertions stay stable. */
  nextId(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}${String(n).padStart(7, '0')}`;
  }

  message(channel: string, ts: string): FakeMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
  }

  root(channel: string, ts: string): FakeMessage | undefined {
    const found = this.message(channel, ts);
    return found && found.thread_ts === undefined ? found : undefined;
  }

  postMessage(
    input: Omit<FakeMessage, 'ts' | 'postedAt' | 'updates' | 'deleted' | 'user' | 'posted'>,
  ): FakeMessage {
    const message: FakeMessage = {
      ...input,
      posted: { text: input.text, blocks: input.blocks },
      ts: this.mintTs(),
      user: this.identity.userId,
      postedAt: this.elapsed(),
      updates: [],
      deleted: false,
    };
    this.messages.push(message);
    return message;
  }

  /** A file announced by files.getUploadURLExternal; its bytes and destination come later. */
  addFile(filename: string, length: number): string {
    const id = this.nextId('F');
    const unset = { title: undefined, content: undefined, channel: undefined, thread_ts: undefined };
    this.files.push({ id, filename, length, ...unset, initial_comment: undefined, completed: false });
    return id;
  }

  mintResponseUrl(id: string, channel: string | undefined, messageTs: string | undefined): void {
    this.responseUrls.set(id, { mintedAt: this.now(), uses: 0, channel, messageTs });
  }
}
