import { formatProblems } from './config/load-inventory';
import { loadConfig } from './config/load-config';
import { createLogger, registerSecret } from './log/create-logger';

// Composition root. Today: check the whole configuration at start-up and report every problem
// with its path; the runbook engine and the Slack front end are wired in here as they land.
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
  const log = createLogger({ level: config.options.LOG_LEVEL });
  log.info(
    { clusters: Object.keys(config.inventory.clusters), inventory: config.inventoryPath },
    'configuration loaded',
  );
  log.warn('this build has no Slack front end yet: use the kbops CLI');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kbops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
