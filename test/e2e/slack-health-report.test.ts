import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { kingbaseCommands } from '../../commands/kingbase-commands';
import { readEnvOptions } from '../../src/config/read-env-options';
import { createLogger } from '../../src/log/create-logger';
import { LAG_CHART_SIZE, SERIES_COLOURS } from '../../src/render/lag-chart';
import { startBot, type Bot } from '../../src/slack/start-bot';
import { lockLabBase, type Release } from '../chaos/support/lab-base-lock';
import { pcpNode, waitPoolNode } from '../integration/support/lab-tools';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { artifactStream, writeArtifact } from '../support/artifacts';
import { startFakeSlack, type FakeSlack } from './support/fake-slack';
import { reportPosts, reportSummary } from './support/report-posts';
import { postToBolt, signedHeaders, slashCommandBody } from './support/sign-slack-request';
import { waitForSlack } from './support/wait-for-slack';

// `/kingbase report` over signed HTTP to the real Bolt app, the Web API faked, the cluster a real
// lab made amber on purpose (the pool detaches a standby that keeps streaming): an ephemeral ack,
// then in the channel one root with a line per cluster, in its thread the cluster's detail and its
// lag chart as a PNG that decodes; /metrics then carries the reading. Someone the cluster does not
// list is refused, and nothing reaches the channel.

const BASE = 210; // shared with report-replicas.test.ts, one at a time (the lock)
const SECRET = '7c3b1a9e5d2f4680a1b2c3d4e5f60718';
const CHANNEL = 'CREPORT01';
const STANDBY_NODE_ID = 1; // the pool's backend id of host 2, the streaming standby
/** The other file on this base may hold it for its whole run (about six minutes). */
const LOCK_WAIT_MS = 9 * 60_000;

let release: Release | undefined;
let pl: PrivateLab;
let slack: FakeSlack;
let bot: Bot;
let stateDir: string;
let detached = false;

beforeAll(async () => {
  release = await lockLabBase(BASE, LOCK_WAIT_MS);
  pl = await startPrivateLab(BASE, 'slack-report');
  slack = await startFakeSlack();
  stateDir = mkdtempSync(join(tmpdir(), 'kbops-e2e-report-'));
  const options = readEnvOptions({
    SLACK_BOT_TOKEN: 'xoxb-e2e-report',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    KBOPS_STATE_DIR: stateDir,
  });
  if (!options.ok) throw new Error(JSON.stringify(options.problems));
  bot = await startBot({
    commands: kingbaseCommands(),
    options: options.options,
    inventory: pl.inventory,
    env: process.env,
    logger: createLogger({ level: 'debug', destination: artifactStream('slack-health-report.log') }),
  });
}, LOCK_WAIT_MS + 180_000);

afterAll(async () => {
  if (detached) await pcpNode(pl.lab, 'attach', STANDBY_NODE_ID).catch(() => undefined);
  await bot?.stop();
  if (slack) writeArtifact('slack-health-report-channel.txt', reportSummary(slack, CHANNEL));
  await slack?.close();
  await pl?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  release?.();
});

const command = async (user: string, text: string) => {
  // Each command its own trigger_id, as Slack sends it: the app drops a delivery it has seen.
  const body = slashCommandBody({
    command: '/kingbase',
    text,
    user_id: user,
    channel_id: CHANNEL,
    trigger_id: slack.triggerId(),
  });
  const r = await postToBolt(`http://127.0.0.1:${bot.port}/slack/events`, body, signedHeaders(SECRET, body));
  expect(r.status).toBe(200);
  expect(r.elapsedMs).toBeLessThan(3000);
};

const ephemeralsFor = (user: string) => slack.ephemerals.filter((e) => e.user === user).map((e) => e.text);
const metric = (text: string, name: string, labels: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};
const metricsText = async () => (await fetch(`http://127.0.0.1:${bot.port}/metrics`)).text();

it('refuses a user the cluster does not list, and posts nothing', async () => {
  await command('UMALLORY', 'report lab');
  await command('UMALLORY', 'report');
  await waitForSlack(slack, 'both refusals', () => ephemeralsFor('UMALLORY').length >= 2, 30_000);
  await new Promise((r) => setTimeout(r, 2_000)); // a report would be read and posted by now
  expect(ephemeralsFor('UMALLORY')).toEqual([
    expect.stringMatching(/^:no_entry_sign: You may not see the health of lab here: you are not among/),
    ':no_entry_sign: You may not see the health of any cluster here.',
  ]);
  expect(slack.callsTo('chat.postMessage')).toEqual([]);
  expect(slack.files).toEqual([]);
  expect(metric(await metricsText(), 'kbops_cluster_health_level', 'cluster="lab"')).toBeUndefined();
});

it('reports an amber lab in the channel: a line per cluster, the detail and a lag chart in the thread', async () => {
  await pcpNode(pl.lab, 'detach', STANDBY_NODE_ID);
  detached = true;
  await waitPoolNode(pl.lab, STANDBY_NODE_ID, ['down']);
  const standby = pl.lab.hosts[1].name;
  const primary = pl.lab.hosts[0].name;

  const asked = Date.now();
  await command('UALICE', 'report');
  await waitForSlack(slack, 'the ack', () => ephemeralsFor('UALICE').length > 0, 10_000);
  expect(ephemeralsFor('UALICE')).toEqual(['Reading 1 cluster: the report follows in this channel.']);
  const root = await waitForSlack(slack, 'the report', () => reportPosts(slack, CHANNEL).reports[0], 60_000);
  const file = await waitForSlack(
    slack,
    'the lag chart',
    () => slack.files.find((f) => f.completed && f.thread_ts === root.ts),
    60_000,
  );
  const tookMs = Date.now() - asked;
  const { reports, others } = reportPosts(slack, CHANNEL);
  expect(others).toEqual([]);
  expect(reports).toHaveLength(1);
  const r = reports[0]!;
  expect(r).toMatchObject({ schedule: null, zone: 'UTC', level: 'amber', counts: '1 amber', notes: [] });
  expect(r.clusters).toEqual([
    {
      level: 'amber',
      cluster: 'lab',
      text: `the pool on ${primary} says ${standby} is down, but it streams: it gets no reads until attached again (pcp_attach_node ${STANDBY_NODE_ID})`,
    },
  ]);

  // The thread: the cluster's detail, then the chart (a file shared in it).
  const replies = r.replies;
  expect(replies).toHaveLength(2);
  expect(replies[0]!.text).toMatch(/^lab is amber: the pool on /);
  const detail = JSON.stringify(replies[0]!.blocks);
  for (const node of [primary, standby]) expect(detail).toContain(node);
  expect(replies[1]!.files).toEqual([file.id]);
  expect(r.files.map((f) => f.filename)).toEqual(['lab-lag-24h.png']);

  // The PNG as Slack received it: the chart's size, and drawn (not one flat colour).
  const png = PNG.sync.read(file.content!);
  expect([png.width, png.height]).toEqual([LAG_CHART_SIZE.width, LAG_CHART_SIZE.height]);
  const colours = new Map<number, number>();
  const series = parseInt(SERIES_COLOURS[0].slice(1), 16); // the one standby's colour
  let seriesAtRight = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    const rgb = (png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!;
    colours.set(rgb, (colours.get(rgb) ?? 0) + 1);
    if (rgb === series && (i / 4) % png.width > png.width * 0.9) seriesAtRight += 1;
  }
  const pixels = png.width * png.height;
  const background = Math.max(...colours.values());
  expect(pixels - background).toBeGreaterThan(pixels * 0.01);
  expect(colours.size).toBeGreaterThan(20);
  // Its legend, and the one reading so far drawn at the right edge (now) of the 24 h axis.
  expect(colours.get(series) ?? 0).toBeGreaterThan(seriesAtRight);
  expect(seriesAtRight).toBeGreaterThan(0);
  writeArtifact('slack-health-report-chart.png', file.content!);

  // /metrics: the reading the report made.
  const text = await metricsText();
  expect(metric(text, 'kbops_cluster_health_level', 'cluster="lab"')).toBe(1);
  const lag = metric(text, 'kbops_replication_lag_bytes', `cluster="lab",standby="${standby}"`);
  expect(lag).toBeGreaterThanOrEqual(0);
  expect(
    metric(text, 'kbops_pool_backend_agrees', `cluster="lab",pool="${primary}",backend="${standby}"`),
  ).toBe(0);
  expect(
    metric(text, 'kbops_pool_backend_agrees', `cluster="lab",pool="${primary}",backend="${primary}"`),
  ).toBe(1);
  expect(slack.calls.filter((c) => c.status !== 200)).toEqual([]);
  console.log(
    `report posted, thread and chart in ${tookMs} ms; PNG ${file.content!.length} bytes, ${colours.size} colours`,
  );
}, 180_000);
