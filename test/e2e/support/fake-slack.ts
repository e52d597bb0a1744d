import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRequest, readBody, sendJson, type ParsedRequest } from './fake-slack-http';
import { answerApiCall, fail, isAnswer, messageContent, type ApiAnswer } from './fake-slack-methods';
import {
  FakeSlackState,
  type FakeEphemeral,
  type FakeFile,
  type FakeMessage,
  type FakeResponsePost,
  type FakeSlackOptions,
  type FakeUser,
  type FakeView,
  type RecordedCall,
  type SlackIdentity,
} from './fake-slack-state';
import { renderTranscript, type TranscriptOptions } from './fake-slack-transcript';
import { writeArtifact } from '../../support/artifacts';

export type * from './fake-slack-state';
export type { TranscriptOptions } from './fake-slack-transcript';

/** Where a response_url post lands when it replaces, deletes or posts `in_channel`. */
export interface ResponseUrlTarget {
  readonly channel?: string;
  /** The message a block_actions payload came from (what `replace_original` replaces). */
  readonly messageTs?: string;
}

export interface FakeSlack {
  /** Give this to Bolt / WebClient as `slackApiUrl` (it ends with `/api/`). */
  readonly url: string;
  readonly identity: SlackIdentity;
  readonly calls: readonly RecordedCall[];
  /** Every channel message (roots and replies) in posting order, with its update history. */
  readonly messages: readonly FakeMessage[];
  readonly ephemerals: readonly FakeEphemeral[];
  readonly responses: readonly FakeResponsePost[];
  readonly files: readonly FakeFile[];
  readonly views: readonly FakeView[];
  /** usergroups.users.list answers; edit it to change membership mid-test. */
  readonly usergroups: Map<string, string[]>;
  /** users.info answers when `users` was given (else undefined: every user exists). */
  readonly users: Map<string, FakeUser> | undefined;
  /** The calls made to one method, in order. */
  callsTo(method: string): RecordedCall[];
  /** The live (not deleted) root messages of a channel, in order. */
  roots(channel: string): FakeMessage[];
  /** The replies in a thread, in order. */
  replies(channel: string, threadTs: string): FakeMessage[];
  /** A `response_url` on the fake for a slash command or action payload (5 uses within 30 min). */
  responseUrl(id: string, target?: ResponseUrlTarget): string;
  /** Mints a trigger_id valid for one views.open within 3 s (by the fake's clock) from now. */
  triggerId(): string;
  /** The next `times` calls to `method` answer HTTP 429 with this Retry-After, whatever else holds. */
  inject429(method: string, retryAfterSeconds: number, times?: number): void;
  /** The channel(s) as stable text for golden files: ts values become <tsN>, timings are masked. */
  transcript(options?: TranscriptOptions): string;
  close(): Promise<void>;
}

function record(
  state: FakeSlackState,
  call: Omit<RecordedCall, 'response' | 'status'>,
  answer: ApiAnswer,
): void {
  state.calls.push({ ...call, status: answer.status, response: answer.body });
}

function reply(res: ServerResponse, answer: ApiAnswer): void {
  sendJson(res, answer.status, answer.body, answer.headers);
}

function webhookFail(status: number, error: string, messages?: string[]): ApiAnswer {
  return { status, body: fail(error, messages).body };
}

/**
 * A response_url as Slack runs it. Past 5 uses or 30 minutes Slack answers HTTP 404 with an error
 * naming the reason (`used_url` / `expired_url`); Bolt's respond() throws on any non-2xx, so the
 * status is what kbops sees and the body is what a human reads. Refused posts do not count as a use.
 */
function answerResponseUrl(state: FakeSlackState, id: string, args: Record<string, unknown>): ApiAnswer {
  const url = state.responseUrls.get(id);
  if (!url) return webhookFail(404, 'invalid_url');
  if (state.now() - url.mintedAt > (state.options.responseUrlTtlMs ?? 30 * 60_000)) {
    return webhookFail(404, 'expired_url');
  }
  if (url.uses >= (state.options.responseUrlMaxUses ?? 5)) return webhookFail(404, 'used_url');
  const content = messageContent(state, args, args.delete_original !== true);
  if (isAnswer(content)) return webhookFail(400, String(content.body.error), messageList(content));
  url.uses += 1;
  const replaceOriginal = args.replace_original === true || args.replace_original === 'true';
  const deleteOriginal = args.delete_original === true || args.delete_original === 'true';
  const responseType = args.response_type === 'in_channel' ? 'in_channel' : 'ephemeral';
  const original = url.channel && url.messageTs ? state.message(url.channel, url.messageTs) : undefined;
  let appliedTo: string | undefined;
  if (deleteOriginal && original) {
    original.deleted = true;
    appliedTo = original.ts;
  } else if (replaceOriginal && original) {
    Object.assign(original, { text: content.text, blocks: content.blocks, truncated: content.truncated });
    original.updates.push({
      at: state.elapsed(),
      via: 'response_url',
      text: content.text,
      blocks: content.blocks,
    });
    appliedTo = original.ts;
  } else if (responseType === 'in_channel' && url.channel) {
    const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
    appliedTo = state.postMessage({ channel: url.channel, thread_ts: threadTs, files: [], ...content }).ts;
  }
  state.responses.push({
    id,
    use: url.uses,
    at: state.elapsed(),
    text: content.text,
    blocks: content.blocks,
    response_type: responseType,
    replace_original: replaceOriginal,
    delete_original: deleteOriginal,
    appliedTo,
  });
  return { status: 200, body: { ok: true } };
}

function messageList(answer: ApiAnswer): string[] | undefined {
  const metadata = answer.body.response_metadata as { messages?: string[] } | undefined;
  return metadata?.messages;
}

/** The upload URL files.getUploadURLExternal hands out: takes raw bytes or a multipart file part. */
function answerUpload(state: FakeSlackState, fileId: string, parsed: ParsedRequest): ApiAnswer {
  const file = state.files.find((f) => f.id === fileId);
  if (!file || file.completed) return webhookFail(404, 'file_not_found');
  file.content = Object.values(parsed.fileParts)[0] ?? parsed.raw;
  return { status: 200, body: { ok: true, size: file.content.length } };
}

async function handle(state: FakeSlackState, origin: string, req: IncomingMessage, res: ServerResponse) {
  const at = state.elapsed();
  const path = new URL(req.url ?? '/', origin).pathname;
  const raw = await readBody(req);
  let parsed: ParsedRequest;
  try {
    parsed = await parseRequest(req, raw);
  } catch {
    return reply(res, fail('invalid_form_data'));
  }
  // Slack takes a token from the header, or from a form field; never from a JSON body.
  const formToken = parsed.contentType.startsWith('application/json') ? undefined : parsed.args.token;
  const token = parsed.bearer ?? (typeof formToken === 'string' ? formToken : undefined);
  const { token: _dropped, ...args } = parsed.args;
  const [, kind = '', rawName = ''] = /^\/([^/]+)\/(.+)$/.exec(path) ?? [];
  const name = decodeURIComponent(rawName);
  let answer: ApiAnswer;
  let method: string;
  if (req.method !== 'POST') {
    method = `${req.method} ${path}`;
    answer = webhookFail(405, 'method_not_allowed');
  } else if (kind === 'api') {
    method = name;
    if (state.options.latencyMs) await new Promise((r) => setTimeout(r, state.options.latencyMs));
    answer = answerApiCall(state, name, args, token, origin);
  } else if (kind === 'response') {
    method = 'response_url';
    answer = answerResponseUrl(state, name, args);
  } else if (kind === 'upload') {
    method = 'file_upload';
    answer = answerUpload(state, name, parsed);
  } else {
    method = path;
    answer = webhookFail(404, 'not_found');
  }
  record(
    state,
    { method, args: kind === 'upload' ? { file_id: name, bytes: raw.length } : args, token, at },
    answer,
  );
  reply(res, answer);
}

/** Everything Slack received (each call's arguments, each uploaded file), for the secret scan. */
function keepArtifacts(state: FakeSlackState): void {
  writeArtifact('slack-calls.jsonl', state.calls.map((c) => JSON.stringify(c)).join('\n'));
  for (const f of state.files) {
    if (f.content) writeArtifact(`slack-file-${f.id}-${f.filename}`, f.content);
  }
}

/** Starts the fake on 127.0.0.1 (an ephemeral port). Close it in afterAll/afterEach. */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const state = new FakeSlackState(options);
  let origin = '';
  const server = createServer((req, res) => {
    handle(state, origin, req, res).catch((error: unknown) => {
      // A bug in the fake must fail the test loudly, not hang the client waiting for an answer.
      sendJson(res, 500, { ok: false, error: 'fake_slack_bug', detail: String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/api/`,
    identity: state.identity,
    calls: state.calls,
    messages: state.messages,
    ephemerals: state.ephemerals,
    responses: state.responses,
    files: state.files,
    views: state.views,
    usergroups: state.usergroups,
    users: state.users,
    callsTo: (method) => state.calls.filter((c) => c.method === method),
    roots: (channel) => state.messages.filter((m) => m.channel === channel && !m.thread_ts && !m.deleted),
    replies: (channel, threadTs) =>
      state.messages.filter((m) => m.channel === channel && m.thread_ts === threadTs && !m.deleted),
    responseUrl(id, target = {}) {
      state.mintResponseUrl(id, target.channel, target.messageTs);
      return `${origin}/response/${encodeURIComponent(id)}`;
    },
    triggerId() {
      const id = `${Math.floor(state.now() / 1000)}.${randomBytes(6).toString('hex')}`;
      state.triggers.set(id, { mintedAt: state.now(), used: false });
      return id;
    },
    inject429(method, retryAfterSeconds, times = 1) {
      const queue = state.injected429.get(method) ?? [];
      queue.push(...Array.from({ length: times }, () => retryAfterSeconds));
      state.injected429.set(method, queue);
    },
    transcript: (transcriptOptions) => renderTranscript(state, transcriptOptions),
    async close() {
      keepArtifacts(state);
      // fetch keeps connections alive; without this, close() would wait for them to time out.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
