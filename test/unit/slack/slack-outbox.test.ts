import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { webApi } from '@slack/bolt';
import { systemClock } from '../../../src/adapters/system-clock';
import type { Clock } from '../../../src/ports/clock';
import {
  RATE_LIMITED,
  SlackOutbox,
  type OutboxFailure,
  type SlackApi,
  type SlackFile,
  type SlackMessage,
} from '../../../src/slack/slack-outbox';
import { slackClientOptions, WebApiSlackApi } from '../../../src/slack/web-api-slack-api';

// A fake SlackApi recording every call with its time; real timers at small intervals.

type Method = 'postMessage' | 'update' | 'uploadFile';
interface Call {
  readonly method: Method;
  readonly channel: string;
  readonly text?: string;
  readonly ts?: string;
  readonly threadTs?: string;
  readonly at: number;
}

class FakeSlackApi implements SlackApi {
  readonly calls: Call[] = [];
  private n = 0;
  private readonly faults: Array<{ when: (c: Call) => boolean; error: () => unknown; times: number }> = [];

  constructor(private readonly latencyMs = 0) {}

  /** The next `times` calls matching `when` throw `error()`. */
  failWhen(when: (c: Call) => boolean, error: () => unknown, times = 1): this {
    this.faults.push({ when, error, times });
    return this;
  }

  async postMessage(a: SlackMessage & { channel: string; threadTs?: string }): Promise<{ ts: string }> {
    await this.call({ method: 'postMessage', channel: a.channel, text: a.text, threadTs: a.threadTs });
    return { ts: `1700000000.${String(++this.n).padStart(6, '0')}` };
  }

  async update(a: SlackMessage & { channel: string; ts: string }): Promise<void> {
    await this.call({ method: 'update', channel: a.channel, text: a.text, ts: a.ts });
  }

  async uploadFile(a: SlackFile & { channel: string; threadTs?: string }): Promise<void> {
    await this.call({ method: 'uploadFile', channel: a.channel, text: a.filename, threadTs: a.threadTs });
  }

  of(channel: string, method?: Method): Call[] {
    return this.calls.filter((c) => c.channel === channel && (!method || c.method === method));
  }

  private async call(c: Omit<Call, 'at'>): Promise<void> {
    const call = { ...c, at: Date.now() };
    this.calls.push(call);
    const fault = this.faults.find((f) => f.times > 0 && f.when(call));
    if (this.latencyMs > 0) await systemClock.sleep(this.latencyMs);
    if (fault) {
      fault.times--;
      throw fault.error();
    }
  }
}

const rateLimited = (retryAfter: number) =>
  Object.assign(new Error('rate limited'), { code: RATE_LIMITED, retryAfter });
const platformError = (error: string) =>
  Object.assign(new Error(`An API error occurred: ${error}`), {
    code: 'slack_webapi_platform_error',
    data: { ok: false, error },
  });
const msg = (text: string): SlackMessage => ({ text });
const gaps = (calls: Call[]) => calls.slice(1).map((c, i) => c.at - calls[i]!.at);

function setup(
  options: { minIntervalMs?: number; maxAttempts?: number; latencyMs?: number; clock?: Clock } = {},
) {
  const api = new FakeSlackApi(options.latencyMs);
  const errors: OutboxFailure[] = [];
  const outbox = new SlackOutbox(api, options.clock ?? systemClock, {
    minIntervalMs: options.minIntervalMs ?? 40,
    ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
    onError: (f) => errors.push(f),
  });
  return { api, outbox, errors };
}

describe('SlackOutbox pacing', () => {
  it('spaces the calls in one channel by at least minIntervalMs', async () => {
    const { api, outbox } = setup({ minIntervalMs: 40 });
    for (let i = 1; i <= 6; i++) void outbox.post('C1', msg(`m${i}`));
    await outbox.flush();
    const calls = api.of('C1');
    expect(calls.map((c) => c.text)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6']);
    expect(calls.at(-1)!.at - calls[0]!.at).toBeGreaterThanOrEqual(5 * 40);
    for (const g of gaps(calls)) expect(g).toBeGreaterThanOrEqual(40);
  });

  it('does not serialise two channels together', async () => {
    const { api, outbox } = setup({ minIntervalMs: 50 });
    const started = Date.now();
    for (let i = 1; i <= 5; i++) {
      void outbox.post('C1', msg(`a${i}`));
      void outbox.post('C2', msg(`b${i}`));
    }
    await outbox.flush();
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(4 * 50);
    expect(elapsed).toBeLessThan(2 * 4 * 50); // serialised would be ≥ 9 intervals
    for (const ch of ['C1', 'C2']) for (const g of gaps(api.of(ch))) expect(g).toBeGreaterThanOrEqual(50);
    expect(api.of('C2')[0]!.at).toBeLessThan(api.of('C1')[1]!.at);
  });

  it('paces posts, updates and uploads alike', async () => {
    const { api, outbox } = setup({ minIntervalMs: 30 });
    const root = outbox.post('C1', msg('root'));
    outbox.update('C1', root, 'k', msg('root v2'));
    void outbox.upload('C1', { filename: 'report.txt', content: 'hello' }, { threadTs: root });
    await outbox.flush();
    expect(api.of('C1').map((c) => c.method)).toEqual(['postMessage', 'update', 'uploadFile']);
    for (const g of gaps(api.of('C1'))) expect(g).toBeGreaterThanOrEqual(30);
    expect(api.of('C1')[2]!.threadTs).toBe(await root);
  });
});

describe('SlackOutbox rate limits', () => {
  it('on a 429 the channel waits Retry-After and retries; other channels proceed; the newest content lands', async () => {
    const { api, outbox, errors } = setup({ minIntervalMs: 10 });
    api.failWhen(
      (c) => c.channel === 'C1' && c.method === 'update',
      () => rateLimited(0.2),
    );
    outbox.update('C1', '1.1', 'root', msg('status: running'));
    for (let i = 1; i <= 5; i++) void outbox.post('C2', msg(`b${i}`));
    await systemClock.sleep(60);
    // while C1 waits, newer states arrive: they replace each other
    outbox.update('C1', '1.1', 'root', msg('status: step 2'));
    outbox.update('C1', '1.1', 'root', msg('status: succeeded'));
    await outbox.flush();

    const c1 = api.of('C1', 'update');
    expect(c1.map((c) => c.text)).toEqual(['status: running', 'status: succeeded']);
    expect(c1[1]!.at - c1[0]!.at).toBeGreaterThanOrEqual(200);
    const c2 = api.of('C2');
    expect(c2).toHaveLength(5);
    expect(c2.at(-1)!.at).toBeLessThan(c1[1]!.at); // C2 was not held by C1's wait
    expect(errors).toEqual([]);
  });

  it('retries a rate-limited post with the same content, in order', async () => {
    const { api, outbox } = setup({ minIntervalMs: 5 });
    api.failWhen(
      (c) => c.text === 'm2',
      () => rateLimited(0.05),
      2,
    );
    const ts = await Promise.all([1, 2, 3].map((i) => outbox.post('C1', msg(`m${i}`))));
    expect(ts.every((t) => typeof t === 'string')).toBe(true);
    expect(api.of('C1').map((c) => c.text)).toEqual(['m1', 'm2', 'm2', 'm2', 'm3']);
  });

  it('gives up after maxAttempts and reports it, without throwing', async () => {
    const { api, outbox, errors } = setup({ minIntervalMs: 5, maxAttempts: 3 });
    api.failWhen(
      (c) => c.text === 'stuck',
      () => rateLimited(0.01),
      10,
    );
    const [stuck, next] = await Promise.all([
      outbox.post('C1', msg('stuck')),
      outbox.post('C1', msg('next')),
    ]);
    expect(stuck).toBeNull();
    expect(typeof next).toBe('string');
    expect(api.of('C1').map((c) => c.text)).toEqual(['stuck', 'stuck', 'stuck', 'next']);
    expect(errors).toMatchObject([{ op: 'post', channel: 'C1', attempts: 3, code: RATE_LIMITED }]);
  });
});

describe('SlackOutbox coalescing and order', () => {
  it('sends a handful of updates for 100 progress values, the last at 100%', async () => {
    const { api, outbox } = setup({ minIntervalMs: 25 });
    const bar = outbox.post('C1', msg('progress 0%'), { threadTs: '1.1' });
    for (let p = 1; p <= 100; p++) {
      outbox.update('C1', bar, 'bar', () => msg(`progress ${p}%`));
      if (p % 10 === 0) await systemClock.sleep(10);
    }
    await outbox.flush();
    const updates = api.of('C1', 'update');
    expect(updates.length).toBeGreaterThanOrEqual(1);
    // at most one update per burst (10 bursts), whatever the timing; typically 4 or 5
    expect(updates.length).toBeLessThanOrEqual(10);
    expect(updates.at(-1)!.text).toBe('progress 100%');
    expect(updates.every((u) => u.ts === updates[0]!.ts)).toBe(true);
  });

  it('never drops or reorders posts, even among coalesced updates', async () => {
    const { api, outbox } = setup({ minIntervalMs: 1 });
    for (let i = 1; i <= 20; i++) {
      void outbox.post('C1', msg(`reply ${i}`), { threadTs: '1.1' });
      outbox.update('C1', '1.1', 'root', msg(`root ${i}`));
    }
    await outbox.flush();
    const posts = api.of('C1', 'postMessage').map((c) => c.text);
    expect(posts).toEqual(Array.from({ length: 20 }, (_, i) => `reply ${i + 1}`));
    expect(api.of('C1', 'update').length).toBeLessThan(20);
    expect(api.of('C1', 'update').at(-1)!.text).toBe('root 20');
  });

  it('coalesces updates of one known ts whatever key each writer gives', async () => {
    const { api, outbox } = setup({ minIntervalMs: 1 });
    void outbox.post('C1', msg('busy'));
    outbox.update('C1', '1.1', 'root:run-1', msg('from the notifier'));
    outbox.update('C1', '1.1', 'msg:1.1', msg('from an approval handler'));
    await outbox.flush();
    expect(api.of('C1', 'update').map((c) => c.text)).toEqual(['from an approval handler']);
  });

  it('queues an update behind one in flight instead of replacing it', async () => {
    const { api, outbox } = setup({ minIntervalMs: 1, latencyMs: 30 });
    outbox.update('C1', '1.1', 'root', msg('v1'));
    await systemClock.sleep(10); // v1 is in flight now
    outbox.update('C1', '1.1', 'root', msg('v2'));
    outbox.update('C1', '1.1', 'root', msg('v3'));
    await outbox.flush();
    expect(api.of('C1').map((c) => c.text)).toEqual(['v1', 'v3']);
  });
});

describe('SlackOutbox threads', () => {
  it('a reply waits for its root ts, and later posts wait behind it', async () => {
    const { api, outbox } = setup({ minIntervalMs: 1 });
    let give!: (ts: string | null) => void;
    const root = new Promise<string | null>((resolve) => (give = resolve));
    void outbox.post('C1', msg('reply'), { threadTs: root });
    void outbox.post('C1', msg('after'));
    await systemClock.sleep(30);
    expect(api.calls).toEqual([]);
    give('1699.000001');
    await outbox.flush();
    expect(api.of('C1')).toMatchObject([
      { text: 'reply', threadTs: '1699.000001' },
      { text: 'after', threadTs: undefined },
    ]);
  });

  it('threads replies under a root posted through the outbox itself', async () => {
    const { api, outbox } = setup({ minIntervalMs: 1, latencyMs: 20 });
    const root = outbox.post('C1', msg('root'));
    const replies = [1, 2, 3].map((i) => outbox.post('C1', msg(`r${i}`), { threadTs: root }));
    await Promise.all(replies);
    const rootTs = await root;
    expect(api.of('C1').map((c) => [c.text, c.threadTs])).toEqual([
      ['root', undefined],
      ['r1', rootTs],
      ['r2', rootTs],
      ['r3', rootTs],
    ]);
  });

  it('reports replies whose root failed instead of posting them unthreaded', async () => {
    const { api, outbox, errors } = setup({ minIntervalMs: 1 });
    api.failWhen(
      (c) => c.text === 'root',
      () => platformError('channel_not_found'),
    );
    const root = outbox.post('C1', msg('root'));
    const reply = outbox.post('C1', msg('reply'), { threadTs: root });
    outbox.update('C1', root, 'root', msg('root v2'));
    expect(await root).toBeNull();
    expect(await reply).toBeNull();
    await outbox.flush();
    expect(api.calls.map((c) => c.text)).toEqual(['root']);
    expect(errors.map((e) => [e.op, e.code, e.attempts])).toEqual([
      ['post', 'slack_webapi_platform_error', 1],
      ['post', 'slack_outbox_missing_ts', 0],
      ['update', 'slack_outbox_missing_ts', 0],
    ]);
  });
});

describe('SlackOutbox errors and flush', () => {
  it('sends errors to onError, never throws, and carries on', async () => {
    const failures: OutboxFailure[] = [];
    const api = new FakeSlackApi();
    const outbox = new SlackOutbox(api, systemClock, {
      minIntervalMs: 1,
      onError: (f) => {
        failures.push(f);
        throw new Error('a broken handler');
      },
    });
    api.failWhen(
      (c) => c.method === 'update',
      () => platformError('msg_too_long'),
    );
    api.failWhen(
      (c) => c.method === 'uploadFile',
      () => new Error('socket hang up'),
    );
    expect(() => {
      outbox.update('C1', '1.1', 'root', msg('too long'));
      outbox.update('C1', '1.2', 'bar', () => {
        throw new Error('render bug');
      });
    }).not.toThrow();
    const uploaded = outbox.upload('C1', { filename: 'x.txt', content: Buffer.from('x') });
    const posted = outbox.post('C1', msg('still works'));
    expect(await uploaded).toBe(false);
    expect(typeof (await posted)).toBe('string');
    await outbox.flush();
    expect(failures.map((f) => [f.op, f.key, f.code])).toEqual([
      ['update', 'msg:1.1', 'slack_webapi_platform_error'],
      ['update', 'msg:1.2', 'unknown'],
      ['upload', undefined, 'unknown'],
    ]);
    expect((failures[1]!.error as Error).message).toBe('render bug');
  });

  it('flush resolves at once when idle and after the last call otherwise', async () => {
    const { api, outbox } = setup({ minIntervalMs: 20, latencyMs: 5 });
    await outbox.flush();
    for (let i = 0; i < 4; i++) void outbox.post(i % 2 ? 'C1' : 'C2', msg(`m${i}`));
    expect(outbox.queued()).toBe(4);
    await outbox.flush();
    expect(api.calls).toHaveLength(4);
    expect(outbox.queued()).toBe(0);
  });

  it('waits through the Clock port (a fake clock that only advances when slept on)', async () => {
    let now = 0;
    const slept: number[] = [];
    const fake: Clock = {
      now: () => new Date(now),
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    };
    const { api, outbox } = setup({ minIntervalMs: 1000, clock: fake });
    api.failWhen(
      (c) => c.text === 'b',
      () => rateLimited(7),
    );
    for (const t of ['a', 'b', 'c']) void outbox.post('C1', msg(t));
    await outbox.flush();
    expect(api.calls.map((c) => c.text)).toEqual(['a', 'b', 'b', 'c']);
    expect(slept).toEqual([1000, 7000, 1000]);
  });
});

describe('SlackOutbox over the real WebClient', () => {
  let server: Server;
  let hits: Array<{ method: string; at: number }> = [];
  let answer429 = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hits.push({ method: req.url ?? '', at: Date.now() });
        if (answer429 > 0) {
          answer429--;
          res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
          return res.end('{"ok":false,"error":"ratelimited"}');
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, channel: 'C1', ts: '1700000000.000001' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (hits = []));

  it('gets the 429 at once with retryAfter, and the outbox retries after it', async () => {
    const { port } = server.address() as AddressInfo;
    const client = new webApi.WebClient('xoxb-test', {
      ...slackClientOptions,
      slackApiUrl: `http://127.0.0.1:${port}/api/`,
      logLevel: webApi.LogLevel.ERROR,
    });
    const api = new WebApiSlackApi(client);
    answer429 = 1;
    await expect(api.update({ channel: 'C1', ts: '1.1', text: 'x' })).rejects.toMatchObject({
      code: RATE_LIMITED,
      retryAfter: 1,
    });

    const errors: OutboxFailure[] = [];
    const outbox = new SlackOutbox(api, systemClock, { minIntervalMs: 10, onError: (f) => errors.push(f) });
    hits = [];
    answer429 = 1;
    const ts = await outbox.post('C1', msg('hello'));
    expect(ts).toBe('1700000000.000001');
    expect(hits.map((h) => h.method)).toEqual(['/api/chat.postMessage', '/api/chat.postMessage']);
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(990);
    expect(errors).toEqual([]);
  });
});
