import type { AddressInfo } from 'node:net';
import { App, LogLevel } from '@slack/bolt';
import { startFakeSlack, type FakeSlack } from './support/fake-slack';
import { blockActionsBody, postToBolt, signedHeaders, slashCommandBody } from './support/sign-slack-request';

// The request builders are proven against the real Bolt receiver: if a signature or a payload shape
// were wrong, Bolt would refuse it (401) or route it to no listener, and these tests would fail.

const SECRET = 'e2e-signing-secret';
let fake: FakeSlack;
let app: App;
let eventsUrl: string;
const seen: string[] = [];

beforeAll(async () => {
  fake = await startFakeSlack({ rateLimits: false });
  app = new App({
    token: 'xoxb-test',
    signingSecret: SECRET,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: fake.url, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true },
  });
  app.command('/kbops', async ({ ack, respond, command, client }) => {
    await ack();
    seen.push(`command ${command.user_id} ${command.text}`);
    await respond({ text: `working on ${command.text}` });
    await client.chat.postMessage({
      channel: command.channel_id,
      text: `run ${command.text}`,
      blocks: [
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              action_id: 'approve',
              value: 'run-1',
              text: { type: 'plain_text', text: 'Approve' },
            },
          ],
        },
      ],
    });
  });
  app.action('approve', async ({ ack, respond, body, action }) => {
    await ack();
    const value = 'value' in action ? action.value : '';
    seen.push(`click ${body.user.id} ${value}`);
    await respond({ replace_original: true, text: `approved by <@${body.user.id}>` });
  });
  const server = await app.start({ port: 0, host: '127.0.0.1' });
  eventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
});

afterAll(async () => {
  await app.stop();
  await fake.close();
});

async function until(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the app');
    await new Promise((r) => setTimeout(r, 10));
  }
}

it('delivers a signed slash command and a signed button click to Bolt', async () => {
  const command = slashCommandBody({
    command: '/kbops',
    text: 'add-node pg3',
    user_id: 'U1',
    channel_id: 'C1',
    response_url: fake.responseUrl('cmd-1', { channel: 'C1' }),
    trigger_id: fake.triggerId(),
  });
  const answer = await postToBolt(eventsUrl, command, signedHeaders(SECRET, command));
  expect(answer.status).toBe(200);
  expect(answer.elapsedMs).toBeLessThan(3000);
  await until(() => fake.roots('C1').length === 1);
  expect(fake.responses).toEqual([expect.objectContaining({ id: 'cmd-1', text: 'working on add-node pg3' })]);
  const root = fake.roots('C1')[0]!;

  const click = blockActionsBody({
    user_id: 'U2',
    action_id: 'approve',
    value: 'run-1',
    channel_id: 'C1',
    message_ts: root.ts,
    response_url: fake.responseUrl('click-1', { channel: 'C1', messageTs: root.ts }),
  });
  expect((await postToBolt(eventsUrl, click, signedHeaders(SECRET, click))).status).toBe(200);
  await until(() => root.updates.length === 1);
  expect(root).toMatchObject({ text: 'approved by <@U2>', updates: [{ via: 'response_url' }] });
  expect(seen).toEqual(['command U1 add-node pg3', 'click U2 run-1']);
  expect(fake.callsTo('auth.test')).not.toHaveLength(0);
});

it('is refused by Bolt when signed with another secret or more than 5 minutes ago', async () => {
  const before = seen.length;
  const body = slashCommandBody({ command: '/kbops', text: 'x', response_url: fake.responseUrl('cmd-2') });
  expect((await postToBolt(eventsUrl, body, signedHeaders('wrong-secret', body))).status).toBe(401);
  const stale = Math.floor(Date.now() / 1000) - 6 * 60;
  expect((await postToBolt(eventsUrl, body, signedHeaders(SECRET, body, stale))).status).toBe(401);
  expect((await postToBolt(eventsUrl, `${body}&x=1`, signedHeaders(SECRET, body))).status).toBe(401);
  expect(seen).toHaveLength(before);
});
