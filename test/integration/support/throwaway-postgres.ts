import { chown, appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAlive, run, sleep, type RunAs } from '../../../lab/lab-exec';
import { PG_BIN } from '../../../lab/lab-packages';
import { lookupUser } from '../../../lab/lab-state';

export interface ThrowawayPostgres {
  readonly url: string;
  stop(): Promise<void>;
  /** An outage: stops the server (fast mode: every client cut off), keeping its data dir and port. */
  stopServer(): Promise<void>;
  /** Ends the outage: starts the server again on the same port and data dir. */
  startServer(): Promise<void>;
}

// PostgreSQL refuses to run as root: as root, it runs as the lab's OS user (present once the lab is up).
const OS_USER = 'kingbase';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A disposable PostgreSQL 15 on 127.0.0.1 (trust auth, fsync off) in a fresh temp dir. stop() shuts
 * it down immediately and removes the dir. Start one per test file: it takes about two seconds.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  let as: RunAs | undefined;
  if (process.getuid?.() === 0) {
    as = await lookupUser(OS_USER);
    if (!as) throw new Error(`OS user ${OS_USER} is missing: bring the lab up first (npm run lab -- up)`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'kbops-pg-'));
  const data = join(dir, 'data');
  try {
    if (as) await chown(dir, as.uid, as.gid);
    const options = as ? { as } : {};
    await run(
      join(PG_BIN, 'initdb'),
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      options,
    );
    const port = await freePort();
    const settings = {
      listen_addresses: `'127.0.0.1'`,
      port: String(port),
      unix_socket_directories: `'${dir}'`,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      max_connections: '50',
    };
    const conf = Object.entries(settings).map(([k, v]) => `${k} = ${v}\n`);
    await appendFile(join(data, 'postgresql.conf'), conf.join(''));
    const log = join(dir, 'postgres.log');
    const start = async (): Promise<number> => {
      const started = await run(join(PG_BIN, 'pg_ctl'), ['start', '-D', data, '-l', log, '-w', '-t', '30'], {
        ...options,
        allowFailure: true,
      });
      if (started.code !== 0) {
        const tail = await readFile(log, 'utf8').catch(() => '');
        throw new Error(`throwaway postgres did not start:\n${started.stderr}\n${tail.slice(-2000)}`);
      }
      return Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    };
    let pid = await start();
    const halt = async (mode: 'immediate' | 'fast' = 'immediate') => {
      await run(join(PG_BIN, 'pg_ctl'), ['stop', '-D', data, '-m', mode, '-w', '-t', '10'], {
        ...options,
        allowFailure: true,
      });
      for (let i = 0; i < 50 && isAlive(pid); i++) {
        if (i === 20) process.kill(pid, 'SIGKILL');
        await sleep(100);
      }
    };
    return {
      url: `postgres://postgres@127.0.0.1:${port}/postgres`,
      async stop() {
        // Immediate mode: nothing to keep. Fall back to SIGKILL by PID if pg_ctl cannot do it.
        await halt();
        await rm(dir, { recursive: true, force: true });
      },
      // Fast, not immediate: with synchronous_commit off, an immediate stop loses the last commits,
      // which a real state database (synchronous_commit on) never does. Clients are cut off alike.
      stopServer: () => halt('fast'),
      async startServer() {
        pid = await start();
      },
    };
  } catch (err) {
    // pg_ctl may have started it before giving up on waiting: stop it before removing its files.
    await run(join(PG_BIN, 'pg_ctl'), ['stop', '-D', data, '-m', 'immediate'], {
      ...(as && { as }),
      allowFailure: true,
    });
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
