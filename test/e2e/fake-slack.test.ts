import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from './support/fake-slack';

// The fake is what every e2e test trusts to say "Slack would refuse this": each refusal is proven
// here over real HTTP, with both encodings Slack accepts. Time windows are in fake-slack-windows.

const fakes: FakeSlack[] = [];

// Rate limits are proven in fake-slack-windows.test.ts; here they would only get in the way.
async function fake(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const started = await startFakeSlack({ rateLimits: false, ...options });
  fakes.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { ok: boolean; error?: string; response_metadata?: { messages?: string[] } } & Record<
    string,
    unknown
  >;
}

async function call(
  url: string,
  args: object,
  json: boolean,
  headers: Record<string, string>,
): Promise<Answer> {
  const body = json
    ? JSON.stringify(args)
    : new URLSearchParams(
        Object.entries(args).map(([k, v]): [string, string] => [
          k,
          typeof v === 'string' ? v : JSON.stringify(v),
        ]),
      ).toString();
  const contentType = json ? 'application/json; charset=utf-8' : 'application/x-www-form-urlencoded';
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Answer['body'],
  };
}

function api(f: FakeSlack, method: string, args: object = {}, json = false): Promise<Answer> {
  return call(`${f.url}${method}`, args, json, { authorization: 'Bearer xoxb-test' });
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (overrides: object = {}) => ({
  type: 'button',
  action_id: 'approve',
  text: { type: 'plain_text', text: 'Approve' },
  ...overrides,
});
const actions = (...elements: object[]) => ({ type: 'actions', elements });
const plainText = (text: string) => ({ type: 'plain_text', text });
const option = (text: string) => ({ text: plainText(text), value: text.slice(0, 150) });
const select = (n: number) => ({
  type: 'static_select',
  action_id: 'pick',
  options: Array.from({ length: n }, (_, i) => option(`o${i}`)),
});

describe('auth', () => {
  it('answers auth.test with the bot identity, from the header or a form token', async () => {
    const f = await fake({ token: 'xoxb-good' });
    const viaHeader = await call(`${f.url}auth.test`, {}, true, { authorization: 'Bearer xoxb-good' });
    expect(viaHeader.body).toMatchObject({
      ok: true,
      team_id: 'T0KBOPS',
      user_id: 'U0KBOPSBOT',
      bot_id: 'B0KBOPS',
    });
    expect((await call(`${f.url}auth.test`, { token: 'xoxb-good' }, false, {})).body.ok).toBe(true);
  });

  it('refuses a missing, wrong, or JSON-body token', async () => {
    const f = await fake({ token: 'xoxb-good' });
    expect((await call(`${f.url}auth.test`, {}, false, {})).body.error).toBe('not_authed');
    expect((await call(`${f.url}auth.test`, { token: 'xoxb-bad' }, false, {})).body.error).toBe(
      'invalid_auth',
    );
    expect((await call(`${f.url}auth.test`, { token: 'xoxb-good' }, true, {})).body.error).toBe('not_authed');
  });
});

describe('chat.postMessage', () => {
  it('posts roots and thread replies, form-encoded or JSON', async () => {
    const f = await fake();
    const root = await api(f, 'chat.postMessage', { channel: 'C1', text: 'root', blocks: [section('hi')] });
    expect(root.body).toMatchObject({ ok: true, channel: 'C1', message: { text: 'root' } });
    const ts = root.body.ts as string;
    expect(ts).toMatch(/^\d{10}\.\d{6}$/);
    const reply = await api(f, 'chat.postMessage', { channel: 'C1', thread_ts: ts, text: 'reply' }, true);
    expect(reply.body.ok).toBe(true);
    expect(f.roots('C1').map((m) => m.text)).toEqual(['root']);
    expect(f.replies('C1', ts).map((m) => m.text)).toEqual(['reply']);
    expect(f.messages[0]!.blocks).toEqual([section('hi')]);
  });

  it('refuses a missing channel, empty content, and a thread_ts that is not a root', async () => {
    const f = await fake();
    expect((await api(f, 'chat.postMessage', { text: 'x' })).body.error).toBe('channel_not_found');
    expect((await api(f, 'chat.postMessage', { channel: 'C1' })).body.error).toBe('no_text');
    const bogus = { channel: 'C1', thread_ts: '1700000000.000001', text: 'x' };
    expect((await api(f, 'chat.postMessage', bogus)).body.error).toBe('thread_not_found');
    const root = (await api(f, 'chat.postMessage', { channel: 'C1', text: 'root' })).body.ts;
    const reply = (await api(f, 'chat.postMessage', { channel: 'C1', thread_ts: root, text: 'r' })).body.ts;
    const nested = await api(f, 'chat.postMessage', { channel: 'C1', thread_ts: reply, text: 'x' });
    expect(nested.body.error).toBe('thread_not_found');
    const elsewhere = await api(f, 'chat.postMessage', { channel: 'C2', thread_ts: root, text: 'x' });
    expect(elsewhere.body.error).toBe('thread_not_found');
    expect(f.messages).toHaveLength(2);
  });

  it('truncates text past 40,000 characters instead of refusing it', async () => {
    const f = await fake();
    const answer = await api(f, 'chat.postMessage', { channel: 'C1', text: 'a'.repeat(40_001) });
    expect(answer.body.ok).toBe(true);
    expect(f.messages[0]!.text).toHaveLength(40_000);
    expect(f.messages[0]!.truncated).toBe(true);
  });

  it('refuses unknown or archived channels when channels are configured', async () => {
    const f = await fake({ channels: { C1: { name: 'ops' }, C9: { name: 'old', is_archived: true } } });
    expect((await api(f, 'chat.postMessage', { channel: 'C2', text: 'x' })).body.error).toBe(
      'channel_not_found',
    );
    expect((await api(f, 'chat.postMessage', { channel: 'C9', text: 'x' })).body.error).toBe('is_archived');
    expect((await api(f, 'chat.postMessage', { channel: 'C1', text: 'x' })).body.ok).toBe(true);
  });
});

describe('Block Kit limits', () => {
  const over: [string, object[], string][] = [
    ['51 blocks', Array.from({ length: 51 }, () => ({ type: 'divider' })), '/blocks'],
    ['section text of 3001', [section('a'.repeat(3001))], '/blocks/0/text/text'],
    [
      '11 fields',
      [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) }],
      '/blocks/0/fields',
    ],
    [
      'a field of 2001',
      [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2001) }] }],
      '/blocks/0/fields/0/text',
    ],
    [
      'header of 151',
      [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }],
      '/blocks/0/text/text',
    ],
    ['mrkdwn header', [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }], '/blocks/0/text/type'],
    [
      '26 elements',
      [actions(...Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` })))],
      '/blocks/0/elements',
    ],
    [
      'button text of 76',
      [actions(button({ text: { type: 'plain_text', text: 'b'.repeat(76) } }))],
      '/blocks/0/elements/0/text/text',
    ],
    ['action_id of 256', [actions(button({ action_id: 'a'.repeat(256) }))], '/blocks/0/elements/0/action_id'],
    ['button value of 2001', [actions(button({ value: 'v'.repeat(2001) }))], '/blocks/0/elements/0/value'],
    ['button style', [actions(button({ style: 'blue' }))], '/blocks/0/elements/0/style'],
    ['empty section text', [section('')], '/blocks/0/text/text'],
    ['unknown block type', [{ type: 'table-ish' }], '/blocks/0/type'],
    [
      '11 context elements',
      [{ type: 'context', elements: Array.from({ length: 11 }, () => plainText('c')) }],
      '/blocks/0/elements',
    ],
    ['101 select options', [actions(select(101))], '/blocks/0/elements/0/options'],
    ['6 overflow options', [actions({ ...select(6), type: 'overflow' })], '/blocks/0/elements/0/options'],
    [
      'option text of 76',
      [actions({ ...select(0), options: [option('o'.repeat(76))] })],
      '/blocks/0/elements/0/options/0/text/text',
    ],
  ];
  const confirm = (title: string, text: string) => ({
    title: { type: 'plain_text', text: title },
    text: { type: 'mrkdwn', text },
    confirm: { type: 'plain_text', text: 'Yes' },
    deny: { type: 'plain_text', text: 'No' },
  });
  over.push(
    [
      'confirm title of 101',
      [actions(button({ confirm: confirm('t'.repeat(101), 'ok') }))],
      '/blocks/0/elements/0/confirm/title/text',
    ],
    [
      'confirm text of 301',
      [actions(button({ confirm: confirm('ok', 't'.repeat(301)) }))],
      '/blocks/0/elements/0/confirm/text/text',
    ],
  );

  it.each(over)('refuses %s with invalid_blocks naming the field', async (_name, blocks, pointer) => {
    const f = await fake();
    const answer = await api(f, 'chat.postMessage', { channel: 'C1', text: 'x', blocks });
    expect(answer.body.error).toBe('invalid_blocks');
    expect(answer.body.response_metadata?.messages?.join('\n')).toContain(`[json-pointer:${pointer}]`);
    expect(f.messages).toHaveLength(0);
  });

  it('accepts every limit exactly at its edge', async () => {
    const f = await fake();
    const edge = [
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(150) } },
      section('a'.repeat(3000)),
      { type: 'section', fields: Array.from({ length: 10 }, () => ({ type: 'mrkdwn', text: 'f' })) },
      { type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2000) }] },
      actions(
        button({
          text: { type: 'plain_text', text: 'b'.repeat(75) },
          action_id: 'a'.repeat(255),
          style: 'danger',
        }),
        button({
          action_id: 'v',
          value: 'v'.repeat(2000),
          confirm: confirm('t'.repeat(100), 't'.repeat(300)),
        }),
      ),
    ];
    expect((await api(f, 'chat.postMessage', { channel: 'C1', blocks: edge })).body.ok).toBe(true);
    const fifty = Array.from({ length: 50 }, () => ({ type: 'divider' }));
    expect((await api(f, 'chat.postMessage', { channel: 'C1', blocks: fifty })).body.ok).toBe(true);
    const menus = [actions(select(100), { ...select(5), type: 'overflow', action_id: 'more' })];
    expect((await api(f, 'chat.postMessage', { channel: 'C1', blocks: menus })).body.ok).toBe(true);
    const twentyFive = Array.from({ length: 25 }, (_, i) => button({ action_id: `a${i}` }));
    expect(
      (await api(f, 'chat.postMessage', { channel: 'C1', blocks: [actions(...twentyFive)] })).body.ok,
    ).toBe(true);
  });

  it('refuses blocks whose JSON is too long, and blocks that are not an array', async () => {
    const f = await fake();
    const long = Array.from({ length: 5 }, () => section('x'.repeat(2900)));
    expect((await api(f, 'chat.postMessage', { channel: 'C1', blocks: long })).body.error).toBe(
      'msg_blocks_too_long',
    );
    const answer = await api(f, 'chat.postMessage', { channel: 'C1', text: 'x', blocks: 'not json' });
    expect(answer.body.error).toBe('invalid_blocks_format');
  });
});

describe('chat.update and chat.postEphemeral', () => {
  it('updates known messages, keeps the history, and refuses unknown ts or bad blocks', async () => {
    const f = await fake();
    const ts = (await api(f, 'chat.postMessage', { channel: 'C1', text: 'v1' })).body.ts;
    expect((await api(f, 'chat.update', { channel: 'C1', ts, text: 'v2' })).body.ok).toBe(true);
    expect((await api(f, 'chat.update', { channel: 'C1', ts, blocks: [section('v3')] }, true)).body.ok).toBe(
      true,
    );
    expect((await api(f, 'chat.update', { channel: 'C1', ts: '1.000001', text: 'x' })).body.error).toBe(
      'message_not_found',
    );
    expect((await api(f, 'chat.update', { channel: 'C2', ts, text: 'x' })).body.error).toBe(
      'message_not_found',
    );
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    expect((await api(f, 'chat.update', { channel: 'C1', ts, blocks: tooMany })).body.error).toBe(
      'invalid_blocks',
    );
    const m = f.messages[0]!;
    expect(m.posted.text).toBe('v1');
    expect(m.updates.map((u) => [u.via, u.text, u.blocks?.length])).toEqual([
      ['chat.update', 'v2', undefined],
      ['chat.update', 'v2', 1],
    ]);
  });

  it('needs a user for an ephemeral message', async () => {
    const f = await fake();
    expect((await api(f, 'chat.postEphemeral', { channel: 'C1', text: 'x' })).body.error).toBe(
      'invalid_arguments',
    );
    const answer = await api(f, 'chat.postEphemeral', { channel: 'C1', user: 'U1', text: 'only you' });
    expect(answer.body.message_ts).toEqual(expect.any(String));
    expect(f.ephemerals).toEqual([expect.objectContaining({ user: 'U1', text: 'only you' })]);
  });
});
