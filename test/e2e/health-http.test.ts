import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kingbaseCommands } from '../../commands/kingbase-commands';
import type { ChatCommand } from '../../src/chatops/chatops';
import { startBot, type Bot } from '../../src/slack/start-bot';
import type { Inventory } from '../../src/config/normalise-inventory';
import { readEnvOptions } from '../../src/config/read-env-options';
import { createLogger } from '../../src/log/create-logger';
import { startFakeSlack, type FakeSlack } from './support/fake-slack';
import { postToBolt, signedHeaders, slashCommandBody } from './support/sign-slack-request';

// The bot composition in HTTP mode, as the image runs it, against the fake Slack Web API: GET
// /healthz on the receiver's port says 200 while the engine turns, the store answers and Slack took
// the token; once the store is gone it says 503 and names the store. GET /metrics on the same port
// shows the bot's counters, and counts a 429 the fake Slack answers to a post through the outbox.

const SECRET = '0123456789abcdef0123456789abcdef';
const CHANNEL = 'C0METRICS';

/** A test's own verb: posts in the channel through the surface, as a run's thread does. */
const say: ChatCommand = {
  name: 'say',
  usage: 'say <text>',
  summary: 'posts the text in the channel',
  run: async (ctx, args) => void (await ctx.surface.post(ctx.actor.channel, { text: args.join(' ') })),
};
let slack: FakeSlack;
let bot: Bot;
let stateDir: string;

beforeAll(async () => {
  slack = await startFakeSlack();
  stateDir = mkdtempSync(join(tmpdir(), 'kbops-health-'));
  const options = readEnvOptions({
    SLACK_BOT_TOKEN: 'xoxb-health-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    KBOPS_STATE_DIR: stateDir,
  });
  if (!options.ok) throw new Error(JSON.stringify(options.problems));
  bot = await startBot({
    commands: [...kingbaseCommands(), say],
    options: options.options,
    inventory: { clusters: {}, reports: [] } as unknown as Inventory,
    env: {},
    logger: createLogger({ level: 'silent' }),
  });
}, 180_000);

afterAll(async () => {
  await bot?.stop().catch(() => undefined); // its store was closed by the test
  await slack?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

const healthz = async () => {
  const r = await fetch(`http://127.0.0.1:${bot.port}/healthz`);
  return { status: r.status, body: (await r.json()) as { ok: boolean; failing: string[] } };
};

async function eventually<T>(f: () => Promise<T>, ok: (t: T) => boolean, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const t = await f();
    if (ok(t) || Date.now() > until) return t;
    await new Promise((r) => setTimeout(r, 200));
  }
}

it('answers 200 on the Slack port when engine, store and Slack are fine', async () => {
  const r = await eventually(healthz, (x) => x.status === 200);
  expect(r).toEqual({ status: 200, body: expect.objectContaining({ ok: true, failing: [] }) });
  expect(slack.callsTo('auth.test').length).toBeGreaterThan(0);
  // The Slack endpoint is the same server, and still verifies signatures.
  const events = await fetch(`http://127.0.0.1:${bot.port}/slack/events`, { method: 'POST', body: '{}' });
  expect(events.status).toBe(401);
});

const metrics = async (method = 'GET') => {
  const r = await fetch(`http://127.0.0.1:${bot.port}/metrics`, { method });
  return { status: r.status, type: r.headers.get('content-type'), text: await r.text() };
};

const rateLimited = (text: string): number | undefined => {
  const m = /^kbops_slack_rate_limited_total (\S+)$/m.exec(text);
  return m ? Number(m[1]) : undefined;
};

it('serves /metrics on the Slack port: numbers only, 405 for other methods', async () => {
  const r = await metrics();
  expect(r.status).toBe(200);
  expect(r.type).toBe(bot.metrics.contentType);
  expect(rateLimited(r.text)).toBe(0);
  expect(r.text).toMatch(/^kbops_process_resident_memory_bytes \d+/m);
  for (const secret of [SECRET, 'xoxb-health-test']) expect(r.text).not.toContain(secret);
  expect((await metrics('POST')).status).toBe(405);
});

it('counts a 429 the fake Slack answers to a post, which is then retried and lands', async () => {
  slack.inject429('chat.postMessage', 1);
  const body = slashCommandBody({ command: '/kingbase', text: 'say hello metrics', channel_id: CHANNEL });
  const sent = await postToBolt(
    `http://127.0.0.1:${bot.port}/slack/events`,
    body,
    signedHeaders(SECRET, body),
  );
  expect(sent.status).toBe(200);
  await eventually(
    async () => slack.roots(CHANNEL).length,
    (n) => n > 0,
  );
  expect(slack.roots(CHANNEL).map((m) => m.text)).toEqual(['hello metrics']);
  expect(slack.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
  expect(rateLimited((await metrics()).text)).toBe(1);
});

it('answers 503 naming the store once the store is gone', async () => {
  await bot.store.close();
  const r = await healthz();
  expect(r.status).toBe(503);
  expect(r.body.ok).toBe(false);
  expect(r.body.failing).toContain('store');
  expect(r.body.failing).not.toContain('slack');
});
