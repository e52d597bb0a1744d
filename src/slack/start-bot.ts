import type { Logger } from 'pino';
import type { Inventory } from '../config/normalise-inventory';
import type { EnvOptions } from '../config/read-env-options';
import type { Env } from '../config/resolve-secret';
import { Engine } from '../engine/engine';
import type { RunStore } from '../ports/run-store';
import type { ChatCommand } from '../chatops/chatops';
import type { AnyRunbook } from '../runbooks/runbook';
import { createSlackApp } from './slack-app';
import { SlackOutbox } from './slack-outbox';
import { SlackSurface } from './slack-surface';
import { UserGroups } from './user-groups';
import { WebApiSlackApi } from './web-api-slack-api';
import { openStore } from '../app/open-store';
import { composeRuns, ENGINE_POLL_MS } from '../app/compose-runs';
import { healthHandler, startHealthServer } from '../app/health-server';
import { KbopsMetrics, metricsHandler } from '../app/metrics';
import { newInstanceId } from '../app/instance-id';
import { reportPublisher } from '../app/report-publisher';
import { ReportScheduler } from '../app/report-scheduler';

// Composition of the Slack bot: store, run service, engine (worker), paced outbox, Bolt app.

export interface Bot {
  readonly port: number;
  readonly store: RunStore;
  readonly engine: Engine;
  /** This process's instance id: the owner of the runs it executes. */
  readonly owner: string;
  /** What GET /metrics shows: record each health report here. */
  readonly metrics: KbopsMetrics;
  stop(): Promise<void>;
}

export interface BotOptions {
  readonly options: EnvOptions;
  readonly inventory: Inventory;
  readonly env: Env;
  readonly logger: Logger;
  /** The `/kingbase` commands (commands/kingbase-commands.ts, or a test's). */
  readonly commands: readonly ChatCommand[];
  /** The runbooks offered (default: all of src/runbooks/index.ts). */
  readonly runbooks?: readonly AnyRunbook[];
  /** The report scheduler's sweep and lease (tests may shorten them). */
  readonly reportTiming?: { readonly sweepMs?: number; readonly leaseMs?: number };
  /** Pacing of Slack calls per channel (tests may lower it). */
  readonly minIntervalMs?: number;
}

export async function startBot(o: BotOptions): Promise<Bot> {
  const { options, inventory, logger } = o;
  if (!options.SLACK_BOT_TOKEN) throw new Error('SLACK_BOT_TOKEN is not set');
  // Unique per process: two replicas on one host never take each other's runs for their own.
  const owner = newInstanceId(options.KBOPS_INSTANCE_ID);
  const store = await openStore(options, o.env, owner);
  // Filled once the Slack client exists; until then nobody is in any group (fail closed).
  const late: { surface?: SlackSurface; groups?: UserGroups } = {};
  const groupsOf = (user: string) => late.groups?.groupsOf(user) ?? [];
  const metrics = new KbopsMetrics();
  const runs = composeRuns({
    inventory,
    env: o.env,
    store,
    groupsOf,
    surface: () => late.surface!,
    owner,
    onError: (what, err) => logger.error({ err }, `${what} failed`),
    onEvent: (event, run) => metrics.observeEvent(event, run),
    reports: store.reports,
    onReport: (report) => metrics.recordReport(report),
    ...(o.runbooks && { runbooks: o.runbooks }),
  });
  const { deps, engine } = runs;
  const socketMode = options.SLACK_APP_TOKEN !== undefined;
  const slack = { authenticated: false, socketUp: false };
  const healthz = healthHandler({
    lastTickAt: () => engine.lastTickAt(),
    maxTickAgeMs: 3 * ENGINE_POLL_MS + 10_000,
    pingStore: async () => void (await store.getLock('kbops-healthz')),
    slackProblem: () =>
      !slack.authenticated
        ? 'auth.test failed at start'
        : socketMode && !slack.socketUp
          ? 'the Socket Mode connection is down'
          : undefined,
    onUnhealthy: (part, reason) => logger.warn({ part, reason }, 'healthz: unhealthy'),
  });
  const metricsz = metricsHandler(metrics);

  // The surface needs the app's client, and the app's handlers need the surface.
  const app = createSlackApp({
    botToken: options.SLACK_BOT_TOKEN,
    ...(options.SLACK_SIGNING_SECRET !== undefined && { signingSecret: options.SLACK_SIGNING_SECRET }),
    ...(options.SLACK_APP_TOKEN !== undefined && { appToken: options.SLACK_APP_TOKEN }),
    ...(options.SLACK_API_URL !== undefined && { slackApiUrl: options.SLACK_API_URL }),
    deps,
    get surface() {
      return late.surface!;
    },
    commands: o.commands,
    logger,
    healthz,
    metrics: metricsz,
    onSocketState: (up) => (slack.socketUp = up),
  });
  const outbox = new SlackOutbox(new WebApiSlackApi(app.client), deps.clock, {
    ...(o.minIntervalMs !== undefined && { minIntervalMs: o.minIntervalMs }),
    onError: (f) => logger.warn({ failure: f }, 'a Slack call was given up'),
    onRateLimited: () => metrics.rateLimited(),
  });
  const surface = new SlackSurface(outbox, {
    openView: async (trigger_id, view) => {
      await app.client.views.open({ trigger_id, view: view as never });
    },
    postEphemeral: async (a) => {
      await app.client.chat.postEphemeral({
        channel: a.channel,
        user: a.user,
        text: a.text,
        ...(a.blocks && { blocks: [...a.blocks] }),
      });
    },
  });
  late.surface = surface;
  const groups = new UserGroups(
    inventory,
    {
      members: async (usergroup) => (await app.client.usergroups.users.list({ usergroup })).users ?? [],
    },
    (g, err) => logger.warn({ group: g, err }, 'cannot read a user group: keeping its last members'),
  );
  await groups.refresh();
  groups.start();
  late.groups = groups;
  // Scheduled health reports: every replica runs the scheduler; the store's claims make each
  // slot posted by exactly one of them.
  const onError = (what: string, err: unknown) => logger.error({ err }, `${what} failed`);
  const scheduler =
    inventory.reports.length === 0
      ? undefined
      : new ReportScheduler({
          schedules: inventory.reports,
          store: store.reports,
          publisher: reportPublisher({
            surface: () => late.surface!,
            service: runs.reports,
            onError,
            inventory,
          }),
          owner,
          clock: deps.clock,
          onError,
          ...(o.reportTiming ?? {}),
        });
  const interrupted = await runs.start();
  for (const r of interrupted)
    logger.warn({ runId: r.id, cluster: r.cluster }, 'run interrupted by a restart: resume or roll back');
  slack.authenticated = await app.client.auth.test().then(
    (r) => r.ok === true,
    (err: unknown) => (logger.error({ err }, 'Slack auth.test failed: check SLACK_BOT_TOKEN'), false),
  );
  // Socket Mode: the app's HTTP port serves only /healthz and /metrics; HTTP mode: Bolt's receiver does.
  const health = socketMode
    ? await startHealthServer(options.PORT, healthz, { metrics: metricsz })
    : undefined;
  const server = (socketMode ? await app.start() : await app.start(options.PORT)) as
    { address?: () => { port: number } } | undefined;
  const port = health?.port ?? (typeof server?.address === 'function' ? server.address().port : options.PORT);
  scheduler?.start();
  logger.info({ port, owner, reports: inventory.reports.map((r) => r.name) }, 'kbops is listening');
  return {
    port,
    store,
    engine,
    owner,
    metrics,
    stop: async () => {
      // A report in hand gets a few seconds; its claim lapses and another replica takes it over.
      await Promise.race([scheduler?.stop(), new Promise((r) => setTimeout(r, 3_000).unref())]);
      await health?.close();
      groups.stop();
      await app.stop();
      await engine.stop();
      await outbox.flush();
      await store.close();
    },
  };
}
