import { runBot } from '../src/main';
import { kingbaseCommands } from './kingbase-commands';

// The bot's executable (the Docker image's CMD): the Slack bot with every `/kingbase` command.
runBot(process.env, kingbaseCommands()).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`kbops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
