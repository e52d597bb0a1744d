import { startFakeSlack, type FakeSlack, type FakeSlackOptions } from './support/fake-slack';

// Rate limits, trigger_id and response_url windows, directory methods and the transcript: the
// time-dependent behaviour of the fake, driven by an injected clock so nothing here sleeps.

let clock = 1_700_000_000_000;
const now = () => clock;
const fakes: FakeSlack[] = [];

async function fake(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const started = await startFakeSlack({ now, ...options });
  fakes.push(started);
  return started;
}

afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { ok: boolean; error?: string } & Record<string, unknown>;
}

async function post(url: string, args: object, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(args),
  });
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as Answer['body'],
  };
}

const api = (f: FakeSlack, method: string, args: object = {}) =>
  post(`${f.url}${method}`, args, { authorization: 'Bearer xoxb-test' });

const modal = (blocks: object[] = [], title = 'Add node') => ({
  type: 'modal',
  title: { type: 'plain_text', text: title },
  blocks,
});

describe('rate limits', () => {
  it('lets a burst of 3 posts per channel through, then answers 429 with Retry-After', async () => {
    const f = await fake();
    for (let i = 0; i < 3; i++)
      expect((await api(f, 'chat.postMessage', { channel: 'C1', text: `${i}` })).status).toBe(200);
    const limited = await api(f, 'chat.postMessage', { channel: 'C1', text: 'too fast' });
    expect(limited).toMatchObject({
      status: 429,
      retryAfter: '1',
      body: { ok: false, error: 'ratelimited' },
    });
    expect((await api(f, 'chat.postMessage', { channel: 'C2', text: 'other channel' })).status).toBe(200);
    clock += 1000;
    expect((await api(f, 'chat.postMessage', { channel: 'C1', text: 'after 1 s' })).status).toBe(200);
    expect((await api(f, 'chat.postMessage', { channel: 'C1', text: 'again' })).status).toBe(429);
    expect(f.roots('C1').map((m) => m.text)).toEqual(['0', '1', '2', 'after 1 s']);
    expect(f.callsTo('chat.postMessage').map((c) => [c.at, c.status])).toEqual([
      [0, 200],
      [0, 200],
      [0, 200],
      [0, 429],
      [0, 200],
      [1000, 200],
      [1000, 429],
    ]);
  });

  it('limits chat.update to a Tier 3 bucket across the workspace', async () => {
    const f = await fake({ rateLimits: { 'chat.postMessage': false } });
    const a = (await api(f, 'chat.postMessage', { channel: 'C1', text: 'a' })).body.ts;
    const b = (await api(f, 'chat.postMessage', { channel: 'C2', text: 'b' })).body.ts;
    for (let i = 0; i < 50; i++) {
      const [channel, ts] = i % 2 ? ['C1', a] : ['C2', b];
      expect((await api(f, 'chat.update', { channel, ts, text: `${i}` })).status).toBe(200);
    }
    const limited = await api(f, 'chat.update', { channel: 'C1', ts: a, text: 'x' });
    expect(limited.status).toBe(429);
    expect(Number(limited.retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('can be turned off', async () => {
    const f = await fake({ rateLimits: false });
    for (let i = 0; i < 10; i++)
      expect((await api(f, 'chat.postMessage', { channel: 'C1', text: `${i}` })).status).toBe(200);
  });

  it('answers after latencyMs when asked to play a slow Slack', async () => {
    const f = await startFakeSlack({ latencyMs: 150 });
    fakes.push(f);
    const started = performance.now();
    expect((await api(f, 'auth.test')).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('injects 429s for a method, a given number of times', async () => {
    const f = await fake({ rateLimits: false });
    f.inject429('chat.postMessage', 7, 2);
    const first = await api(f, 'chat.postMessage', { channel: 'C1', text: 'x' });
    expect(first).toMatchObject({ status: 429, retryAfter: '7' });
    expect((await api(f, 'chat.postMessage', { channel: 'C1', text: 'x' })).status).toBe(429);
    expect((await api(f, 'auth.test')).status).toBe(200);
    expect((await api(f, 'chat.postMessage', { channel: 'C1', text: 'x' })).status).toBe(200);
    expect(f.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 429, 200]);
  });
});

describe('views and trigger_id', () => {
  it('opens a modal once per trigger_id, within 3 seconds of minting', async () => {
    const f = await fake();
    expect((await api(f, 'views.open', { trigger_id: 'never-minted', view: modal() })).body.error).toBe(
      'invalid_trigger_id',
    );
    const trigger = f.triggerId();
    clock += 2999;
    const opened = await api(f, 'views.open', { trigger_id: trigger, view: modal() });
    expect(opened.body).toMatchObject({ ok: true, view: { id: 'V0000001', type: 'modal' } });
    expect((await api(f, 'views.open', { trigger_id: trigger, view: modal() })).body.error).toBe(
      'exchanged_trigger_id',
    );
    const late = f.triggerId();
    clock += 3001;
    expect((await api(f, 'views.open', { trigger_id: late, view: modal() })).body.error).toBe(
      'expired_trigger_id',
    );
  });

  it('refuses views over 100 blocks or with a long title, without spending the trigger', async () => {
    const f = await fake();
    const trigger = f.triggerId();
    const blocks = Array.from({ length: 101 }, () => ({ type: 'divider' }));
    expect((await api(f, 'views.open', { trigger_id: trigger, view: modal(blocks) })).body.error).toBe(
      'invalid_arguments',
    );
    const longTitle = modal([], 't'.repeat(25));
    expect((await api(f, 'views.open', { trigger_id: trigger, view: longTitle })).body.error).toBe(
      'invalid_arguments',
    );
    const metadata = { ...modal(), private_metadata: 'm'.repeat(3001) };
    expect((await api(f, 'views.open', { trigger_id: trigger, view: metadata })).body.error).toBe(
      'invalid_arguments',
    );
    const input = {
      type: 'input',
      label: { type: 'plain_text', text: 'Host' },
      element: { type: 'plain_text_input', action_id: 'host' },
    };
    const noSubmit = await api(f, 'views.open', { trigger_id: trigger, view: modal([input]) });
    expect(noSubmit.body.response_metadata).toEqual({ messages: [expect.stringContaining('submit')] });
    const hundred = Array.from({ length: 100 }, () => ({ type: 'divider' }));
    expect((await api(f, 'views.open', { trigger_id: trigger, view: modal(hundred) })).body.ok).toBe(true);
  });

  it('updates a view by id and refuses a stale hash or unknown id', async () => {
    const f = await fake();
    const opened = await api(f, 'views.open', { trigger_id: f.triggerId(), view: modal() });
    const view = opened.body.view as { id: string; hash: string };
    const next = modal([{ type: 'divider' }], 'Step 2');
    expect((await api(f, 'views.update', { view_id: view.id, hash: view.hash, view: next })).body.ok).toBe(
      true,
    );
    expect((await api(f, 'views.update', { view_id: view.id, hash: view.hash, view: next })).body.error).toBe(
      'hash_conflict',
    );
    expect((await api(f, 'views.update', { view_id: 'V404', view: next })).body.error).toBe('not_found');
    expect(f.views[0]!.updates).toHaveLength(1);
  });
});

describe('response_url', () => {
  it('accepts 5 posts, then answers 404 used_url', async () => {
    const f = await fake();
    const url = f.responseUrl('cmd-1');
    for (let i = 1; i <= 5; i++) expect((await post(url, { text: `use ${i}` })).status).toBe(200);
    const sixth = await post(url, { text: 'use 6' });
    expect(sixth).toMatchObject({ status: 404, body: { ok: false, error: 'used_url' } });
    expect(f.responses.map((r) => r.use)).toEqual([1, 2, 3, 4, 5]);
  });

  it('expires 30 minutes after minting', async () => {
    const f = await fake();
    const url = f.responseUrl('cmd-2');
    clock += 30 * 60_000;
    expect((await post(url, { text: 'just in time' })).status).toBe(200);
    clock += 1;
    expect((await post(url, { text: 'late' })).body.error).toBe('expired_url');
  });

  it('replaces the original message, posts in_channel, or stays ephemeral', async () => {
    const f = await fake();
    const ts = (await api(f, 'chat.postMessage', { channel: 'C1', text: 'Approve?' })).body.ts as string;
    const action = f.responseUrl('click-1', { channel: 'C1', messageTs: ts });
    expect((await post(action, { replace_original: true, text: 'Approved by <@U1>' })).status).toBe(200);
    expect(f.messages[0]).toMatchObject({ text: 'Approved by <@U1>', updates: [{ via: 'response_url' }] });
    const command = f.responseUrl('cmd-3', { channel: 'C1' });
    await post(command, { response_type: 'in_channel', text: 'for everyone' });
    await post(command, { text: 'just for you' });
    expect(f.roots('C1').map((m) => m.text)).toEqual(['Approved by <@U1>', 'for everyone']);
    expect(f.responses.map((r) => [r.response_type, r.appliedTo !== undefined])).toEqual([
      ['ephemeral', true],
      ['in_channel', true],
      ['ephemeral', false],
    ]);
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    expect(await post(command, { blocks: tooMany })).toMatchObject({
      status: 400,
      body: { error: 'invalid_blocks' },
    });
  });
});

describe('directory methods', () => {
  it('answers users.info, usergroups.users.list and conversations.info from configuration', async () => {
    const f = await fake({
      users: { U1: { name: 'alice', real_name: 'Alice' } },
      usergroups: { S1: ['U1'] },
      channels: { C1: { name: 'kbops-ops' } },
    });
    expect((await api(f, 'users.info', { user: 'U1' })).body.user).toMatchObject({ id: 'U1', name: 'alice' });
    expect((await api(f, 'users.info', { user: 'U2' })).body.error).toBe('user_not_found');
    expect((await api(f, 'usergroups.users.list', { usergroup: 'S1' })).body.users).toEqual(['U1']);
    f.usergroups.set('S1', []);
    expect((await api(f, 'usergroups.users.list', { usergroup: 'S1' })).body.users).toEqual([]);
    expect((await api(f, 'usergroups.users.list', { usergroup: 'S9' })).body.error).toBe('no_such_subteam');
    expect((await api(f, 'conversations.info', { channel: 'C1' })).body.channel).toMatchObject({
      name: 'kbops-ops',
    });
    expect((await api(f, 'conversations.info', { channel: 'C2' })).body.error).toBe('channel_not_found');
    expect((await api(f, 'chat.scheduleMessage', { channel: 'C1' })).body.error).toBe('unknown_method');
  });
});

describe('transcript', () => {
  async function conversation(f: FakeSlack): Promise<void> {
    const root = await api(f, 'chat.postMessage', {
      channel: 'C1',
      text: 'add node pg3',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Add node pg3' } },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              action_id: 'approve',
              value: 'run-1',
              style: 'primary',
              text: { type: 'plain_text', text: 'Approve' },
            },
          ],
        },
      ],
    });
    const ts = root.body.ts as string;
    await api(f, 'chat.postMessage', {
      channel: 'C1',
      thread_ts: ts,
      text: `step 1 done in 1.2s (parent ${ts})`,
    });
    clock += 1234;
    await api(f, 'chat.update', { channel: 'C1', ts, text: 'add node pg3: done at 2024-05-01T10:00:00Z' });
    await api(f, 'chat.postEphemeral', { channel: 'C1', user: 'U1', text: 'took 340 ms' });
  }

  it('replaces ts values by ordinals and masks timings, so two runs give the same text', async () => {
    const first = await fake();
    await conversation(first);
    clock += 86_400_000 + 777;
    const second = await fake();
    await conversation(second);
    expect(second.messages[0]!.ts).not.toBe(first.messages[0]!.ts);
    expect(second.transcript()).toBe(first.transcript());
    expect(first.transcript()).toBe(
      [
        '# C1',
        '<ts1> @U0KBOPSBOT: add node pg3',
        '  | header: Add node pg3',
        '  | actions: [Approve (primary) -> approve=run-1]',
        '  ~ update 1 (chat.update): add node pg3: done at <time>',
        '    | header: Add node pg3',
        '    | actions: [Approve (primary) -> approve=run-1]',
        '    > <ts2> @U0KBOPSBOT: step 1 done in <dur> (parent <ts1>)',
        '# ephemeral',
        '<ts3> to @U1 in C1: took <dur>',
        '',
      ].join('\n'),
    );
    expect(first.transcript({ updates: 'last' }).split('\n').slice(1, 3)).toEqual([
      '<ts1> @U0KBOPSBOT: add node pg3: done at <time>',
      '  | header: Add node pg3',
    ]);
  });
});
