import { createHmac } from 'node:crypto';

export interface SlackSignedHeaders {
  readonly 'x-slack-signature': string;
  readonly 'x-slack-request-timestamp': string;
  readonly 'content-type': string;
}

/**
 * Headers Slack sends with every request to the app: `v0=` HMAC-SHA256 of `v0:<ts>:<raw body>`.
 * `timestamp` is in seconds; pass an old one to exercise the receiver's 5-minute replay window.
 */
export function signedHeaders(
  signingSecret: string,
  body: string,
  timestamp: number = Math.floor(Date.now() / 1000),
  contentType = 'application/x-www-form-urlencoded',
): SlackSignedHeaders {
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex');
  return {
    'x-slack-signature': `v0=${signature}`,
    'x-slack-request-timestamp': String(timestamp),
    'content-type': contentType,
  };
}

export interface SlashCommandFields {
  readonly command: string;
  readonly text?: string;
  readonly channel_id?: string;
  readonly user_id?: string;
  readonly user_name?: string;
  readonly team_id?: string;
  readonly response_url?: string;
  readonly trigger_id?: string;
  readonly token?: string;
  readonly channel_name?: string;
  readonly api_app_id?: string;
}

/** A slash command as Slack posts it: form-encoded, every field a string, unset ones given defaults. */
export function slashCommandBody(fields: SlashCommandFields): string {
  const form: Record<string, string> = {
    token: 'verification-token-unused',
    team_id: 'T0KBOPS',
    team_domain: 'kbops-test',
    channel_id: 'C0KBOPS',
    channel_name: 'kbops-ops',
    user_id: 'U0OPERATOR',
    user_name: 'operator',
    text: '',
    api_app_id: 'A0KBOPS',
    is_enterprise_install: 'false',
    response_url: '',
    trigger_id: '',
    ...fields,
  };
  return new URLSearchParams(form).toString();
}

export interface BlockActionFields {
  readonly user_id: string;
  readonly action_id: string;
  readonly channel_id: string;
  /** The ts of the message the button sits on. */
  readonly message_ts: string;
  readonly value?: string;
  readonly block_id?: string;
  readonly user_name?: string;
  readonly team_id?: string;
  readonly trigger_id?: string;
  readonly response_url?: string;
  /** Set when the message is a thread reply. */
  readonly thread_ts?: string;
  /** The message as Slack would include it (defaults to a bare one with that ts). */
  readonly message?: Record<string, unknown>;
}

/** A button click as Slack posts it: one form field `payload` holding the block_actions JSON. */
export function blockActionsBody(fields: BlockActionFields): string {
  const teamId = fields.team_id ?? 'T0KBOPS';
  const payload = {
    type: 'block_actions',
    team: { id: teamId, domain: 'kbops-test' },
    user: { id: fields.user_id, username: fields.user_name ?? 'operator', team_id: teamId },
    api_app_id: 'A0KBOPS',
    token: 'verification-token-unused',
    container: {
      type: 'message',
      message_ts: fields.message_ts,
      channel_id: fields.channel_id,
      is_ephemeral: false,
      ...(fields.thread_ts ? { thread_ts: fields.thread_ts } : {}),
    },
    trigger_id: fields.trigger_id ?? '',
    channel: { id: fields.channel_id, name: 'kbops-ops' },
    message: fields.message ?? {
      type: 'message',
      ts: fields.message_ts,
      text: '',
      ...(fields.thread_ts ? { thread_ts: fields.thread_ts } : {}),
    },
    response_url: fields.response_url ?? '',
    actions: [
      {
        type: 'button',
        action_id: fields.action_id,
        block_id: fields.block_id ?? 'kbops',
        value: fields.value ?? '',
        text: { type: 'plain_text', text: fields.action_id },
        action_ts: `${Math.floor(Date.now() / 1000)}.000000`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface ViewSubmissionFields {
  readonly user_id: string;
  /** The view as it was opened (callback_id, private_metadata, blocks). */
  readonly view: Record<string, unknown>;
  /** state.values: block_id → action_id → { type, value | selected_option }. */
  readonly values: Record<string, Record<string, Record<string, unknown>>>;
  readonly team_id?: string;
}

/** A modal submitted, as Slack posts it: one form field `payload` holding the view_submission JSON. */
export function viewSubmissionBody(fields: ViewSubmissionFields): string {
  const teamId = fields.team_id ?? 'T0KBOPS';
  const payload = {
    type: 'view_submission',
    team: { id: teamId, domain: 'kbops-test' },
    user: { id: fields.user_id, username: 'operator', team_id: teamId },
    api_app_id: 'A0KBOPS',
    token: 'verification-token-unused',
    trigger_id: '',
    view: {
      id: 'V0KBOPS',
      team_id: teamId,
      type: 'modal',
      ...fields.view,
      state: { values: fields.values },
      hash: '1.abc',
    },
    response_urls: [],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface BoltResponse {
  readonly status: number;
  readonly body: string;
  /** Wall time until the response arrived: Slack gives up after 3000 ms. */
  readonly elapsedMs: number;
}

/** POSTs a (signed) body to the app's events URL the way Slack's servers do. */
export async function postToBolt(
  url: string,
  body: string,
  headers: SlackSignedHeaders | Record<string, string>,
): Promise<BoltResponse> {
  const started = performance.now();
  const response = await fetch(url, { method: 'POST', headers: { ...headers }, body });
  const text = await response.text();
  return { status: response.status, body: text, elapsedMs: Math.round(performance.now() - started) };
}
