import { webApi } from '@slack/bolt';
import { startFakeSlack, type FakeSlack } from './support/fake-slack';

// The fake is only useful if the real client kbops ships with (Bolt's @slack/web-api) talks to it
// unchanged: form-encoded calls, JSON-encoded blocks, the filesUploadV2 three-step flow, 429s.

// The client logs Slack's refusal messages at error level; the tests assert them instead.
const silent = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => webApi.LogLevel.ERROR,
  setName: () => {},
};

let fake: FakeSlack;
let client: webApi.WebClient;

beforeEach(async () => {
  fake = await startFakeSlack();
  client = new webApi.WebClient('xoxb-test', {
    slackApiUrl: fake.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: silent,
  });
});

afterEach(async () => {
  await fake.close();
});

it('posts a root and a reply, then updates the root', async () => {
  const root = await client.chat.postMessage({
    channel: 'C1',
    text: 'add node',
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*add node*' } }],
  });
  expect(root.ok).toBe(true);
  await client.chat.postMessage({ channel: 'C1', thread_ts: root.ts!, text: 'step 1' });
  await client.chat.update({ channel: 'C1', ts: root.ts!, text: 'add node: done' });
  expect(fake.roots('C1')).toEqual([
    expect.objectContaining({
      text: 'add node: done',
      blocks: [expect.objectContaining({ type: 'section' })],
    }),
  ]);
  expect(fake.replies('C1', root.ts!).map((m) => m.text)).toEqual(['step 1']);
  expect(fake.callsTo('chat.postMessage')[0]).toMatchObject({ token: 'xoxb-test', args: { channel: 'C1' } });
});

it('surfaces Slack refusals as platform errors with the explanation', async () => {
  const blocks = [{ type: 'header' as const, text: { type: 'plain_text' as const, text: 'h'.repeat(151) } }];
  const refused = client.chat.postMessage({ channel: 'C1', text: 'x', blocks });
  await expect(refused).rejects.toMatchObject({
    code: webApi.ErrorCode.PlatformError,
    data: {
      error: 'invalid_blocks',
      response_metadata: { messages: [expect.stringContaining('/blocks/0/text/text')] },
    },
  });
  await expect(client.chat.update({ channel: 'C1', ts: '1.000001', text: 'x' })).rejects.toMatchObject({
    data: { error: 'message_not_found' },
  });
});

it('rejects a rate-limited call at once with its Retry-After', async () => {
  fake.inject429('chat.postMessage', 3);
  const started = Date.now();
  await expect(client.chat.postMessage({ channel: 'C1', text: 'x' })).rejects.toMatchObject({
    code: webApi.ErrorCode.RateLimitedError,
    retryAfter: 3,
  });
  expect(Date.now() - started).toBeLessThan(1000);
});

it('uploads a file into a thread with filesUploadV2', async () => {
  const root = await client.chat.postMessage({ channel: 'C1', text: 'plan' });
  const content = 'step 1: pg_basebackup\nstep 2: promote ✓\n';
  const result = await client.filesUploadV2({
    channel_id: 'C1',
    thread_ts: root.ts!,
    content,
    filename: 'plan.txt',
    title: 'Plan for pg3',
    initial_comment: 'full plan',
  });
  expect(result.ok).toBe(true);
  expect(fake.files).toEqual([
    expect.objectContaining({
      filename: 'plan.txt',
      title: 'Plan for pg3',
      channel: 'C1',
      thread_ts: root.ts,
    }),
  ]);
  expect(fake.files[0]!.content!.toString('utf8')).toBe(content);
  expect(fake.replies('C1', root.ts!)).toEqual([
    expect.objectContaining({ text: 'full plan', files: [fake.files[0]!.id] }),
  ]);
  expect(fake.calls.map((c) => c.method)).toEqual([
    'chat.postMessage',
    'files.getUploadURLExternal',
    'file_upload',
    'files.completeUploadExternal',
  ]);
});

it('refuses to complete an upload whose bytes never arrived', async () => {
  const { file_id } = await client.files.getUploadURLExternal({ filename: 'a.txt', length: 3 });
  await expect(
    client.files.completeUploadExternal({ files: [{ id: file_id!, title: 'a' }], channel_id: 'C1' }),
  ).rejects.toMatchObject({ data: { error: 'file_not_found' } });
});
