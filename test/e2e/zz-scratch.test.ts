import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBot } from '../../src/app/start-bot';
import { readEnvOptions } from '../../src/config/read-env-options';
import { createLogger } from '../../src/log/create-logger';
import { startFakeSlack } from './support/fake-slack';
import { postToBolt, signedHeaders, slashCommandBody } from './support/sign-slack-request';
const SECRET = '0e2e7a6b5c4d3e2f1a0b9c8d7e6f5a4b';
it('two bots', async () => {
  const slack = await startFakeSlack();
  const mk = async () => {
    const o = readEnvOptions({ SLACK_BOT_TOKEN: 'xoxb-e2e-test', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: slack.url, PORT: '0', KBOPS_STATE_DIR: mkdtempSync(join(tmpdir(), 'x-')), LOG_LEVEL: 'silent' });
    if (!o.ok) throw new Error('x');
    return startBot({ options: o.options, inventory: { clusters: {} } as never, env: process.env, logger: createLogger({ level: 'silent' }) });
  };
  const a = await mk();
  const { WebClient } = await import('@slack/web-api');
  await new WebClient('x', { slackApiUrl: slack.url, retryConfig: { retries: 0 } }).auth.test().then(
    () => console.log('direct ok'),
    (e: any) => console.log('direct fail', e.original?.cause ?? e.original ?? e),
  );
  const b = await mk();
  console.log(a.port, b.port);
  for (const x of [a, b]) {
    const body = slashCommandBody({ command: '/kingbase', text: 'help', user_id: 'U1', channel_id: 'C1' });
    const r = await postToBolt(`http://127.0.0.1:${x.port}/slack/events`, body, signedHeaders(SECRET, body));
    console.log(r.status);
  }
  console.log(slack.calls.map((c) => `${c.method} ${c.status}`));
  await a.stop(); await b.stop(); await slack.close();
});
