import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { parse, stringify } from 'yaml';
import { lockLabBase, type Release } from '../chaos/support/lab-base-lock';
import { startPrivateLab, type PrivateLab } from '../integration/support/private-lab';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../integration/support/throwaway-postgres';
import { writeArtifact } from '../support/artifacts';
import { killAllBots, spawnBot, waitBotExit, type BotProcess } from './support/bot-process';
import { startFakeSlack, type FakeSlack } from './support/fake-slack';
import { reportPosts, reportSummary } from './support/report-posts';
import { slotRows, watchClaim } from './support/report-slot-rows';

// Issue 11's acceptance: two bot replicas (commands/main.ts, as the image runs it, in two processes
// with the product's own sweep and lease) on one PostgreSQL state store, a schedule every minute, one
// fake Slack, for five minutes: the minute they start in (a schedule counts from the minute a bot
// first sees it) and the four after. In the third, the replica that claimed the slot is SIGKILLed (by
// PID) while it reads the cluster. Exactly five reports: the killed one's slot posted by the survivor
// once the claim lapses, none doubled, none skipped; the survivor stops before a sixth minute.

const BASE = 210; // this file and slack-health-report.test.ts share it, one at a time (the lock)
const CHANNEL = 'CREPLICAS1';
const SCHEDULE = 'minutely';
const SECRET = '5f1e0d9c8b7a69584736251403f2e1d0';
const MINUTE = 60_000;
const WINDOW = 5; // scheduled minutes, from the one the replicas start in
const KILL_IN = 3; // the minute of the window in which a replica is killed
/** The other file on this base holds it for about a minute. */
const LOCK_WAIT_MS = 5 * MINUTE;

let release: Release | undefined;
let pl: PrivateLab;
let pg: ThrowawayPostgres;
let slack: FakeSlack;
let db: Client;
let work: string;
let inventoryPath: string;
let slackStartedAt = 0;

const floorMinute = (t: number): number => Math.floor(t / MINUTE) * MINUTE;
const minuteText = (t: number): string => new Date(t).toISOString().slice(0, 16).replace('T', ' ');
const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

beforeAll(async () => {
  release = await lockLabBase(BASE, LOCK_WAIT_MS);
  pl = await startPrivateLab(BASE, 'report-replicas'); // first: as root, PostgreSQL runs as the lab's user
  pg = await startThrowawayPostgres();
  db = new Client({ connectionString: pg.url });
  await db.connect();
  slack = await startFakeSlack();
  slackStartedAt = Date.now();
  work = mkdtempSync(join(tmpdir(), 'kbops-replicas-'));
  // The lab's own inventory, with the schedule added: validated by each bot like any operator's.
  const doc = parse(readFileSync(pl.lab.inventoryPath, 'utf8')) as Record<string, unknown>;
  doc.reports = {
    [SCHEDULE]: {
      cron: '* * * * *',
      timezone: 'UTC',
      channel: CHANNEL,
      charts: 'problems',
      lateLimitMinutes: 10,
      nodeTimeoutSeconds: 5,
    },
  };
  inventoryPath = join(work, 'kbops.yaml');
  writeFileSync(inventoryPath, stringify(doc), { mode: 0o600 });
}, LOCK_WAIT_MS + 180_000);

afterAll(async () => {
  await killAllBots();
  if (slack) writeArtifact('report-replicas-channel.txt', reportSummary(slack, CHANNEL));
  await slack?.close();
  await db?.end().catch(() => undefined);
  await pg?.stop();
  await pl?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  release?.();
});

const replica = (name: string): BotProcess =>
  spawnBot(name, {
    SLACK_BOT_TOKEN: 'xoxb-replicas-test',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.url,
    PORT: '0',
    KBOPS_INVENTORY: inventoryPath,
    KBOPS_STATE_DATABASE_URL: pg.url,
    KBOPS_INSTANCE_ID: name,
    LOG_LEVEL: 'info',
  });

/** Waits until the channel has a report for `minute` (wall ms), or `ms` passes. */
async function reportOf(minute: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (reportPosts(slack, CHANNEL).reports.some((r) => r.minute === minuteText(minute))) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

it(
  `two replicas, a minutely schedule, one SIGKILLed mid-report: each of ${WINDOW} minutes posted once`,
  async () => {
    const started = Date.now();
    const bots = [replica('replica-a'), replica('replica-b')];
    const [upA, upB] = await Promise.all(bots.map((b) => b.up));
    const bothUp = Math.max(upA!.at, upB!.at);
    const firstUp = Math.min(upA!.at, upB!.at);
    const ownerOf = new Map(bots.map((b, i) => [b, [upA, upB][i]!.owner]));
    // The schedule's first minute is the one the first replica saw it in, kept in the store for both.
    const seenRows = await db.query<{ first_seen: Date }>(
      'SELECT first_seen FROM kbops_report_schedules WHERE schedule = $1',
      [SCHEDULE],
    );
    const firstSeen = seenRows.rows[0]?.first_seen.getTime() ?? firstUp;
    const window = Array.from({ length: WINDOW }, (_, i) => floorMinute(firstSeen) + i * MINUTE);
    const killSlot = window[KILL_IN - 1]!;
    const fail = (why: string) =>
      new Error(`${why}\n${reportSummary(slack, CHANNEL)}\n${bots.map((b) => b.transcript()).join('\n')}`);

    // The third minute: the moment a replica has claimed the slot (it is reading the lab), kill it.
    await sleepUntil(killSlot - 2_000);
    const seen = await watchClaim(db, SCHEDULE, new Date(killSlot), killSlot + 45_000);
    if (!seen) throw fail('nobody claimed the third slot');
    expect(seen.row.state).toBe('claimed');
    const victim = bots.find((b) => ownerOf.get(b) === seen.row.owner);
    if (!victim) throw fail(`the claim's owner ${seen.row.owner} is neither replica`);
    const survivor = bots.find((b) => b !== victim)!;
    process.kill(victim.pid, 'SIGKILL');
    const killedAt = Date.now();
    const postedBeforeKill = reportPosts(slack, CHANNEL).reports.filter(
      (r) => r.minute === minuteText(killSlot),
    );
    expect((await victim.exited).signal).toBe('SIGKILL');

    // The survivor takes the lapsed claim over, then posts the last two minutes alone.
    const last = window[WINDOW - 1]!;
    if (!(await reportOf(last, last + 90_000 - Date.now()))) throw fail('the last minute was not posted');
    const lastPostedAt = Date.now();
    await new Promise((r) => setTimeout(r, 3_000)); // anything doubled arrives late: give it the time
    process.kill(survivor.pid, 'SIGTERM');
    expect(await waitBotExit(survivor, 30_000)).toEqual({ code: 0, signal: null });
    const wallMs = Date.now() - started;

    // The channel: exactly five reports, one per minute, consecutive, none doubled; nothing else (no
    // skipped note), every one green without a thread.
    expect(Date.now()).toBeLessThan(last + MINUTE); // the survivor stopped before a sixth slot
    const { reports, others } = reportPosts(slack, CHANNEL);
    const minutes = reports.map((r) => r.minute);
    const expected = window.map(minuteText);
    expect(minutes).toEqual(expected);
    expect(minutes).toHaveLength(5);
    expect(others.map((m) => m.text)).toEqual([]);
    for (const r of reports) {
      expect(r).toMatchObject({
        schedule: SCHEDULE,
        zone: 'UTC',
        level: 'green',
        counts: '1 green',
        notes: [],
      });
      expect(r.clusters.map((c) => [c.cluster, c.level])).toEqual([['lab', 'green']]);
      expect(r.clusters[0]!.text).toMatch(/^2 nodes, 1 standby streaming, largest lag /);
      expect(r.replies).toEqual([]);
      expect(r.files).toEqual([]);
    }
    expect(slack.callsTo('chat.postMessage').map((c) => c.status)).toEqual(reports.map(() => 200));
    expect(postedBeforeKill).toEqual([]);

    // The store: every one of those slots posted, the killed one's by the survivor on a second claim.
    const rows = await slotRows(db, SCHEDULE);
    expect(rows.map((r) => minuteText(r.slotAt.getTime()))).toEqual(expected);
    expect(rows.filter((r) => r.state !== 'posted')).toEqual([]);
    const killRow = rows.find((r) => r.slotAt.getTime() === killSlot)!;
    expect(killRow).toMatchObject({ owner: ownerOf.get(survivor), attempts: 2, note: null });
    for (const r of rows.filter((x) => x.slotAt.getTime() > killSlot))
      expect(r).toMatchObject({ owner: ownerOf.get(survivor), attempts: 1 });
    for (const r of rows.filter((x) => x.slotAt.getTime() !== killSlot)) expect(r.attempts).toBe(1);

    // What was measured, for the record.
    const postedAt = (minute: number) =>
      slackStartedAt + reports.find((r) => r.minute === minuteText(minute))!.postedAt - minute;
    const owners = rows.map((r) => `${minuteText(r.slotAt.getTime()).slice(11)} ${r.owner?.split('@')[0]}`);
    const summary = [
      `wall ${Math.round(wallMs / 1000)} s (replicas up after ${Math.round((bothUp - started) / 1000)} s)`,
      `killed ${victim.name} (pid ${victim.pid}) ${killedAt - seen.at} ms after its claim was seen, ${Math.round((killedAt - killSlot) / 1000)} s into ${minuteText(killSlot)}`,
      `posted after the minute: ${window.map((m) => `${Math.round(postedAt(m) / 100) / 10} s`).join(', ')}`,
      `last report seen ${Math.round((lastPostedAt - last) / 1000)} s after its minute; owners: ${owners.join(', ')}`,
    ].join('\n');
    writeArtifact('report-replicas-measured.txt', summary);
    console.log(summary);
  },
  9 * MINUTE,
);
