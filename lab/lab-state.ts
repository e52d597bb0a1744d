import { readFile, writeFile } from 'node:fs/promises';
import { Client } from 'pg';
import type { LabLayout } from './lab-layout';
import { run, type RunAs } from './lab-exec';

/** What `up` made outside the lab directory, so that `down` removes exactly that. */
export interface LabState {
  readonly version: 1;
  readonly createdUser: boolean;
  readonly createdRunSshd: boolean;
}

export async function readState(lab: LabLayout): Promise<LabState | undefined> {
  try {
    return JSON.parse(await readFile(lab.statePath, 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

export const writeState = (lab: LabLayout, state: LabState): Promise<void> =>
  writeFile(lab.statePath, `${JSON.stringify(state, null, 2)}\n`);

export async function lookupUser(name: string): Promise<RunAs | undefined> {
  const r = await run('getent', ['passwd', name], { allowFailure: true });
  if (r.code !== 0) return undefined;
  const [, , uid, gid, , home] = r.stdout.trim().split(':');
  return { uid: Number(uid), gid: Number(gid), home: home ?? '/' };
}

export const readPassword = async (lab: LabLayout): Promise<string> =>
  (await readFile(lab.secrets.password, 'utf8')).trim();

/** One short SQL session to a lab node or the pool, as the lab's superuser. */
export async function labSql<T extends Record<string, unknown>>(
  lab: LabLayout,
  target: { host: string; port: number; database?: string },
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({
    host: target.host,
    port: target.port,
    user: lab.dbUser,
    database: target.database ?? 'postgres',
    password: await readPassword(lab),
    connectionTimeoutMillis: 5000,
  });
  // pgpool restarting its children (on attach/detach) ends connections: not a crash of ours.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

export async function trySql<T extends Record<string, unknown>>(
  ...args: Parameters<typeof labSql>
): Promise<T[] | undefined> {
  try {
    return await labSql<T>(...args);
  } catch {
    return undefined;
  }
}
