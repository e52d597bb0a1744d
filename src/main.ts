import type { ChatCommand } from './chatops/chatops';
import type { Env } from './config/resolve-secret';
import { formatProblems } from './config/load-inventory';
import { loadConfig } from './config/load-config';
import { createLogger, registerSecret } from './log/create-logger';
import { startBot } from './slack/start-bot';

// The bot's process: check the whole configuration at start-up (every problem with its path), then
// run the Slack bot until SIGTERM or SIGINT. Without Slack tokens, say what to use instead. The
// entry point (commands/main.ts) hands it the `/kingbase` commands.
export async function runBot(env: Env, commands: readonly ChatCommand[]): Promise<number> {
  const config = await loadConfig(env);
  if (!config.ok) {
    process.stderr.write(
      `kbops: configuration has ${config.problems.length} problem(s):\n${formatProblems(config.problems)}\n`,
    );
    return 2;
  }
  // From here on no log line can carry a resolved secret, whatever path it takes.
  for (const s of config.secrets) registerSecret(s);
  for (const t of [
    config.options.SLACK_BOT_TOKEN,
    config.options.SLACK_SIGNING_SECRET,
    config.options.SLACK_APP_TOKEN,
  ]) {
    if (t) registerSecret(t);
  }
  const log = createLogger({ level: config.options.LOG_LEVEL });
  log.info(
    { clusters: Object.keys(config.inventory.clusters), inventory: config.inventoryPath },
    'configuration loaded',
  );
  if (!config.options.SLACK_BOT_TOKEN) {
    log.warn('no SLACK_BOT_TOKEN: use the kbops command line (kbops help), or set the Slack variables');
    return 0;
  }
  const bot = await startBot({
    options: config.options,
    inventory: config.inventory,
    env,
    logger: log,
    commands,
  });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
    const first = (s: NodeJS.Signals): void => {
      // Back to the default action, so a second signal of either kind ends the process at once.
      for (const t of signals) process.removeListener(t, first);
      resolve(s);
    };
    for (const t of signals) process.once(t, first);
  });
  // Bounded: the runs in hand stop at their current step (remote commands killed) and are left
  // interrupted for a resume or rollback; whatever is still stuck after the grace period is left to
  // its lease, and its remote command to the SSH watchdog. A second signal ends the process at once.
  log.info({ signal, graceMs: SHUTDOWN_GRACE_MS }, 'stopping: runs in progress stop at their current step');
  const { stillRunning } = await bot.engine.shutdown(SHUTDOWN_GRACE_MS - STOP_REST_MS);
  if (stillRunning > 0)
    log.warn({ stillRunning }, 'runs still stopping at the deadline: left to their lease');
  await Promise.race([bot.stop(), new Promise((r) => setTimeout(r, STOP_REST_MS).unref())]);
  return 0;
}

/** How long SIGTERM/SIGINT may take, documented in README (Slack); the last part closes Slack and the store. */
const SHUTDOWN_GRACE_MS = 15_000;
const STOP_REST_MS = 3_000;
