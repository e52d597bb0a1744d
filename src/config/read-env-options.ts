import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { absolutePathSchema } from './inventory-schema';
import type { ConfigProblem } from './inventory-rules';
import type { Env } from './resolve-secret';

// The bot's own settings come from the environment, passed in as a parameter so tests never
// touch process.env (probot's readEnvOptions).
const envSchema = z.object({
  KBOPS_INVENTORY: z.string().min(1).default('./kbops.yaml').describe('path of the inventory file'),
  SLACK_BOT_TOKEN: z
    .string()
    .regex(/^xoxb-[A-Za-z0-9-]+$/, { message: 'must be a bot token (xoxb-…)' })
    .optional()
    .describe('bot token; without it kbops runs only the CLI and console'),
  SLACK_SIGNING_SECRET: z
    .string()
    .regex(/^[0-9a-f]{32,}$/i, { message: 'must be the hex signing secret from the app settings' })
    .optional()
    .describe('request signing secret (HTTP mode)'),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-[A-Za-z0-9-]+$/, { message: 'must be an app-level token (xapp-…)' })
    .optional()
    .describe('app-level token: enables Socket Mode'),
  SLACK_API_URL: z.url({ message: 'must be a URL' }).optional().describe('Web API base URL (tests only)'),
  KBOPS_STATE_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
    .optional()
    .describe('state database; without it an embedded store is used'),
  KBOPS_STATE_DIR: absolutePathSchema
    .optional()
    .describe(
      'directory of the embedded state store, one process at a time (default: $XDG_STATE_HOME/kbops, else ~/.local/state/kbops; /var/lib/kbops in the image)',
    ),
  KBOPS_INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'must be 1-64 letters, digits, ., _ or -' })
    .default('kbops')
    .describe('stable name of this kbops instance; each process adds @host/pid/random to it'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info'),
  PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int()
    .min(0, { error: 'must be between 0 and 65535' })
    .max(65535, { error: 'must be between 0 and 65535' })
    .default(3000)
    .describe('HTTP port of the Slack receiver (0: any free port)'),
});

export type EnvOptions = z.output<typeof envSchema>;
export const envOptionsSchema = envSchema;

export type EnvOptionsResult = { ok: true; options: EnvOptions } | { ok: false; problems: ConfigProblem[] };

export function readEnvOptions(env: Env = process.env): EnvOptionsResult {
  // Empty variables count as unset: `FOO=` in a compose file should not fail a regex.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  const problems: ConfigProblem[] = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
  const has = (k: string) => present[k] !== undefined;
  if (has('SLACK_APP_TOKEN') && !has('SLACK_BOT_TOKEN')) {
    problems.push({ path: 'SLACK_BOT_TOKEN', message: 'required when SLACK_APP_TOKEN is set' });
  }
  if (has('SLACK_BOT_TOKEN') && !has('SLACK_APP_TOKEN') && !has('SLACK_SIGNING_SECRET')) {
    problems.push({
      path: 'SLACK_SIGNING_SECRET',
      message: 'required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)',
    });
  }
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  // Normalised: every front end opens the same embedded store wherever it is started from.
  return {
    ok: true,
    options: { ...parsed.data, KBOPS_STATE_DIR: parsed.data.KBOPS_STATE_DIR ?? defaultStateDir(env) },
  };
}

/**
 * The embedded store's directory when KBOPS_STATE_DIR is unset: absolute, never relative to the
 * working directory (XDG base directories; the image sets KBOPS_STATE_DIR to its volume).
 */
export function defaultStateDir(env: Env): string {
  const xdg = env.XDG_STATE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'kbops');
  const home = env.HOME && isAbsolute(env.HOME) ? env.HOME : homedir();
  return join(home, '.local', 'state', 'kbops');
}
