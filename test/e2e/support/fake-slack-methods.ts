import { randomBytes } from 'node:crypto';
import { blockProblems, viewProblems } from './fake-slack-blocks';
import type { FakeSlackState, RateLimitedMethod } from './fake-slack-state';

/** What the fake sends back: Slack answers errors with HTTP 200 `{ ok: false }`, except 429s. */
export interface ApiAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

export interface MessageContent {
  readonly text: string;
  readonly truncated: boolean;
  readonly blocks: unknown[] | undefined;
}

type Args = Record<string, unknown>;
type Handler = (state: FakeSlackState, args: Args, origin: string) => ApiAnswer;

const MAX_TEXT = 40_000;
const DEFAULT_MAX_BLOCKS_JSON = 13_000;

export function ok(body: Args = {}): ApiAnswer {
  return { status: 200, body: { ok: true, ...body } };
}

export function fail(error: string, messages?: string[]): ApiAnswer {
  const body: Args = { ok: false, error };
  if (messages?.length) body.response_metadata = { messages };
  return { status: 200, body };
}

export function rateLimited(retryAfterSeconds: number): ApiAnswer {
  return {
    status: 429,
    body: { ok: false, error: 'ratelimited' },
    headers: { 'retry-after': String(retryAfterSeconds) },
  };
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

function missing(field: string): ApiAnswer {
  return fail('invalid_arguments', [`[ERROR] missing required field: ${field}`]);
}

/** Shared by messages, updates, ephemerals and response_url posts: Slack's content checks. */
export function messageContent(
  state: FakeSlackState,
  args: Args,
  requireContent: boolean,
): MessageContent | ApiAnswer {
  let blocks: unknown[] | undefined;
  if (args.blocks !== undefined) {
    const problems = blockProblems(args.blocks, 50);
    if (problems === 'invalid_blocks_format') return fail('invalid_blocks_format');
    if (problems.length > 0) return fail('invalid_blocks', problems);
    blocks = args.blocks as unknown[];
    if (JSON.stringify(blocks).length > (state.options.maxBlocksJsonChars ?? DEFAULT_MAX_BLOCKS_JSON)) {
      return fail('msg_blocks_too_long');
    }
  }
  const full = typeof args.text === 'string' ? args.text : '';
  if (requireContent && full === '' && !blocks?.length && args.attachments === undefined) {
    return fail('no_text');
  }
  return { text: full.slice(0, MAX_TEXT), truncated: full.length > MAX_TEXT, blocks };
}

export function isAnswer(value: MessageContent | ApiAnswer): value is ApiAnswer {
  return 'status' in value;
}

function throttle(state: FakeSlackState, method: RateLimitedMethod, channel: string): ApiAnswer | undefined {
  const config = state.rateLimit(method);
  if (!config) return undefined;
  const taken = state.buckets.take(config.perChannel ? `${method}:${channel}` : method, config);
  return 'retryAfterSeconds' in taken ? rateLimited(taken.retryAfterSeconds) : undefined;
}

function channelProblem(state: FakeSlackState, channel: string): ApiAnswer | undefined {
  if (!state.channels) return undefined;
  const known = state.channels.get(channel);
  if (!known) return fail('channel_not_found');
  return known.is_archived === true ? fail('is_archived') : undefined;
}

function messageBody(
  state: FakeSlackState,
  m: { ts: string; text: string; blocks?: unknown[]; thread_ts?: string },
) {
  const { userId, botId } = state.identity;
  return { type: 'message', user: userId, bot_id: botId, ...m };
}

const handlers: Record<string, Handler> = {
  'auth.test': (state) => {
    const { team, teamId, user, userId, botId } = state.identity;
    return ok({
      url: `https://${team}.slack.com/`,
      team,
      user,
      team_id: teamId,
      user_id: userId,
      bot_id: botId,
    });
  },

  'chat.postMessage': (state, args) => {
    const channel = str(args.channel);
    if (!channel) return fail('channel_not_found');
    const limited = throttle(state, 'chat.postMessage', channel);
    if (limited) return limited;
    const refused = channelProblem(state, channel);
    if (refused) return refused;
    const threadTs = str(args.thread_ts);
    // Stricter than Slack (which may start a thread on any message): kbops must only reply to roots.
    if (threadTs && !state.root(channel, threadTs)) return fail('thread_not_found');
    const content = messageContent(state, args, true);
    if (isAnswer(content)) return content;
    const posted = state.postMessage({ channel, thread_ts: threadTs, files: [], ...content });
    const message = messageBody(state, {
      ts: posted.ts,
      text: posted.text,
      blocks: posted.blocks,
      thread_ts: threadTs,
    });
    return ok({ channel, ts: posted.ts, message });
  },

  'chat.update': (state, args) => {
    const channel = str(args.channel);
    if (!channel) return fail('channel_not_found');
    const ts = str(args.ts);
    if (!ts) return missing('ts');
    const limited = throttle(state, 'chat.update', channel);
    if (limited) return limited;
    const target = state.message(channel, ts);
    if (!target) return fail('message_not_found');
    if (args.text === undefined && args.blocks === undefined) return fail('no_text');
    const content = messageContent(state, args, false);
    if (isAnswer(content)) return content;
    // An omitted field keeps its value; `blocks: []` clears the blocks.
    if (args.text !== undefined) Object.assign(target, { text: content.text, truncated: content.truncated });
    if (content.blocks !== undefined) target.blocks = content.blocks.length > 0 ? content.blocks : undefined;
    target.updates.push({
      at: state.elapsed(),
      via: 'chat.update',
      text: target.text,
      blocks: target.blocks,
    });
    const message = messageBody(state, { ts, text: target.text, blocks: target.blocks });
    return ok({ channel, ts, text: target.text, message });
  },

  'chat.postEphemeral': (state, args) => {
    const channel = str(args.channel);
    if (!channel) return fail('channel_not_found');
    const user = str(args.user);
    if (!user) return missing('user');
    const refused = channelProblem(state, channel);
    if (refused) return refused;
    const threadTs = str(args.thread_ts);
    if (threadTs && !state.root(channel, threadTs)) return fail('thread_not_found');
    const content = messageContent(state, args, true);
    if (isAnswer(content)) return content;
    const messageTs = state.mintTs();
    const { text, blocks } = content;
    state.ephemerals.push({
      channel,
      user,
      thread_ts: threadTs,
      message_ts: messageTs,
      text,
      blocks,
      at: state.elapsed(),
    });
    return ok({ message_ts: messageTs });
  },

  'views.open': (state, args) => {
    const triggerId = str(args.trigger_id);
    if (!triggerId) return missing('trigger_id');
    const trigger = state.triggers.get(triggerId);
    if (!trigger) return fail('invalid_trigger_id');
    if (trigger.used) return fail('exchanged_trigger_id');
    if (state.now() - trigger.mintedAt > (state.options.triggerTtlMs ?? 3000))
      return fail('expired_trigger_id');
    const refused = viewRefusal(args.view);
    if (refused) return refused;
    trigger.used = true;
    const view = { ...(args.view as Args), id: state.nextId('V'), hash: randomBytes(6).toString('hex') };
    state.views.push({
      id: view.id,
      hash: view.hash,
      view,
      opened: view,
      openedAt: state.elapsed(),
      updates: [],
    });
    return ok({ view });
  },

  'views.update': (state, args) => {
    const viewId = str(args.view_id);
    const externalId = str(args.external_id);
    if (!viewId && !externalId) return missing('view_id');
    const known = state.views.find((v) => (viewId ? v.id === viewId : v.view.external_id === externalId));
    if (!known) return fail('not_found');
    if (str(args.hash) && args.hash !== known.hash) return fail('hash_conflict');
    const refused = viewRefusal(args.view);
    if (refused) return refused;
    known.hash = randomBytes(6).toString('hex');
    known.view = { ...(args.view as Args), id: known.id, hash: known.hash };
    known.updates.push({ at: state.elapsed(), view: known.view });
    return ok({ view: known.view });
  },

  'files.getUploadURLExternal': (state, args, origin) => {
    const filename = str(args.filename);
    if (!filename) return missing('filename');
    const length = Number(args.length);
    if (!Number.isInteger(length) || length <= 0) return missing('length');
    const id = state.addFile(filename, length);
    return ok({ upload_url: `${origin}/upload/${id}`, file_id: id });
  },

  'files.completeUploadExternal': (state, args) => {
    if (!Array.isArray(args.files) || args.files.length === 0) return missing('files');
    const channel = str(args.channel_id);
    const threadTs = str(args.thread_ts);
    if (threadTs && !channel) return missing('channel_id');
    if (channel) {
      const refused = channelProblem(state, channel);
      if (refused) return refused;
      if (threadTs && !state.root(channel, threadTs)) return fail('thread_not_found');
    }
    const entries = args.files as { id?: unknown; title?: unknown }[];
    const files = entries.map((entry) => state.files.find((f) => f.id === entry.id));
    // A file whose bytes never reached the upload URL cannot be completed either.
    if (files.some((f) => !f || f.completed || f.content === undefined)) return fail('file_not_found');
    const comment = typeof args.initial_comment === 'string' ? args.initial_comment : undefined;
    const done = files.map((file, i) => {
      const f = file!;
      Object.assign(f, { title: str(entries[i]?.title) ?? f.filename, channel, thread_ts: threadTs });
      Object.assign(f, { initial_comment: comment, completed: true });
      return { id: f.id, name: f.filename, title: f.title, size: f.content?.length };
    });
    if (channel) {
      const text = (comment ?? '').slice(0, MAX_TEXT);
      const ids = done.map((f) => f.id);
      state.postMessage({
        channel,
        thread_ts: threadTs,
        text,
        truncated: false,
        blocks: undefined,
        files: ids,
      });
    }
    return ok({ files: done });
  },

  'users.info': (state, args) => {
    const user = str(args.user);
    if (!user) return missing('user');
    if (!state.users)
      return ok({ user: { id: user, name: user.toLowerCase(), deleted: false, is_bot: false } });
    const known = state.users.get(user);
    return known ? ok({ user: { id: user, ...known } }) : fail('user_not_found');
  },

  'usergroups.users.list': (state, args) => {
    const group = str(args.usergroup);
    if (!group) return missing('usergroup');
    const users = state.usergroups.get(group);
    return users ? ok({ users: [...users] }) : fail('no_such_subteam');
  },

  'conversations.info': (state, args) => {
    const channel = str(args.channel);
    if (!channel) return fail('channel_not_found');
    if (!state.channels)
      return ok({ channel: { id: channel, name: channel.toLowerCase(), is_member: true } });
    const known = state.channels.get(channel);
    return known ? ok({ channel: { id: channel, ...known } }) : fail('channel_not_found');
  },
};

function viewRefusal(view: unknown): ApiAnswer | undefined {
  const problems = viewProblems(view);
  if (problems.length > 0) return fail('invalid_arguments', problems);
  return JSON.stringify(view).length > 250_000 ? fail('view_too_large') : undefined;
}

/** Answers one Web API call: forced 429s first, then auth, then the method (which may throttle). */
export function answerApiCall(
  state: FakeSlackState,
  method: string,
  args: Args,
  token: string | undefined,
  origin: string,
): ApiAnswer {
  const forced = state.injected429.get(method);
  if (forced?.length) return rateLimited(forced.shift()!);
  if (!token) return fail('not_authed');
  if (state.options.token !== undefined && token !== state.options.token) return fail('invalid_auth');
  const handler = handlers[method];
  return handler ? handler(state, args, origin) : fail('unknown_method');
}
