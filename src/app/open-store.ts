import type { EnvOptions } from '../config/read-env-options';
import type { Env } from '../config/resolve-secret';
import type { StateStore } from '../ports/report-store';
import { createRunStore } from '../store/create-run-store';

// The one place a front end opens the state store: the shared PostgreSQL store when
// KBOPS_STATE_DATABASE_URL is set, the embedded one under KBOPS_STATE_DIR otherwise. The bot, the
// console and the CLI therefore always see the same runs, journal, locks and report slots.

export type StoreOptions = Pick<EnvOptions, 'KBOPS_STATE_DATABASE_URL' | 'KBOPS_STATE_DIR'>;

export const openStore = (options: StoreOptions, env: Env, instanceId?: string): Promise<StateStore> =>
  createRunStore({
    ...(options.KBOPS_STATE_DATABASE_URL !== undefined && { databaseUrl: options.KBOPS_STATE_DATABASE_URL }),
    ...(options.KBOPS_STATE_DIR !== undefined && { dataDir: options.KBOPS_STATE_DIR }),
    env,
    ...(instanceId !== undefined && { instanceId }),
  });
