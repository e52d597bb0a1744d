import { startBot } from './app/start-bot';
import { formatProblems } from './config/load-inventory';
import { loadConfig } from './config/load-config';
import { createLogger, registerSecret } from './log/create-logger';

// Composition root: check the whole configuration at start-up (every problem with its path), then
// run the Slack bot. Without Slack tokens, say what to use instead.
async function main(): Promise<number> {
  const config = await loadConfig(process.env);
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
    env: process.env,
    logger: log,
  });
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  log.info('stopping: runs in progress finish their current step');
  await bot.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kbops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
