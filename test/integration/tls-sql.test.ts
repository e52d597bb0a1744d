import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { connectSql } from '../../src/adapters/connect-node';
import { CleartextPasswordRefused, PgSqlClient, type PgTlsMode } from '../../src/adapters/pg-sql-client';
import type { ClusterConfig } from '../../src/config/normalise-inventory';
import { startThrowawayPostgres } from './support/throwaway-postgres';
import { startTlsPostgres, type TlsPostgres } from './support/tls-postgres';
import { readFileSync } from 'node:fs';

// SQL over TLS, for real: a PostgreSQL with TLS on whose pg_hba asks for the password in clear text.
// Without TLS kbops must refuse to send it (a recording proxy proves no byte of it left); with TLS it
// may go inside the tunnel; verify-full checks the server against the CA of the inventory.

let pg: TlsPostgres;

/** A TCP relay to the server that keeps every byte the client sent. */
interface Relay {
  readonly port: number;
  sent(): Buffer;
  close(): Promise<void>;
}

async function startRelay(target: number): Promise<Relay> {
  const chunks: Buffer[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    client.on('data', (d: Buffer) => chunks.push(d));
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('relay has no port');
  return {
    port: address.port,
    sent: () => Buffer.concat(chunks),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const options = (mode: PgTlsMode, extra: { port?: number; ca?: string } = {}) => ({
  host: pg.host,
  port: extra.port ?? pg.port,
  user: pg.user,
  database: 'postgres',
  password: pg.password,
  connectTimeoutMs: 5000,
  tls: { mode, ...(extra.ca !== undefined && { ca: extra.ca }) },
});

async function whoAmI(client: PgSqlClient): Promise<{ user: unknown; ssl: unknown }> {
  const r = await client.query('SELECT current_user AS u, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
  return { user: r.rows[0]?.u, ssl: r.rows[0]?.ssl };
}

beforeAll(async () => {
  pg = await startTlsPostgres();
}, 60_000);
afterAll(() => pg?.stop());

describe('a server that asks for the password in clear text', () => {
  it('is refused without TLS, and not one byte of the password leaves the process', async () => {
    const relay = await startRelay(pg.port);
    try {
      const attempt = PgSqlClient.connect(options('disable', { port: relay.port }));
      await expect(attempt).rejects.toBeInstanceOf(CleartextPasswordRefused);
      await expect(attempt).rejects.toThrow(
        /the server asked for the password in clear text; set the server to scram-sha-256\/md5 or require TLS/,
      );
      const sent = relay.sent();
      expect(sent.length).toBeGreaterThan(0); // the startup message did go through the relay
      expect(sent.includes(Buffer.from(pg.password))).toBe(false);
    } finally {
      await relay.close();
    }
  });

  it('gets it inside TLS with require', async () => {
    const client = await PgSqlClient.connect(options('require'));
    try {
      expect(client.encrypted).toBe(true);
      expect(await whoAmI(client)).toEqual({ user: 'kbops_tls', ssl: true });
    } finally {
      await client.close();
    }
  });

  it('gets it inside TLS with prefer, the default, when the server offers TLS', async () => {
    const client = await PgSqlClient.connect({ ...options('prefer'), tls: undefined });
    try {
      expect(await whoAmI(client)).toEqual({ user: 'kbops_tls', ssl: true });
    } finally {
      await client.close();
    }
  });
});

describe('verifying the server', () => {
  it('verify-full with the CA that signed the server certificate works', async () => {
    const client = await PgSqlClient.connect(options('verify-full', { ca: readFileSync(pg.caFile, 'utf8') }));
    try {
      expect(await whoAmI(client)).toEqual({ user: 'kbops_tls', ssl: true });
    } finally {
      await client.close();
    }
  });

  it.each(['verify-full', 'verify-ca', 'require'] as const)(
    '%s with another CA is refused before any password is sent',
    async (mode) => {
      const relay = await startRelay(pg.port);
      try {
        const ca = readFileSync(pg.wrongCaFile, 'utf8');
        await expect(PgSqlClient.connect(options(mode, { port: relay.port, ca }))).rejects.toThrow(
          /certificate/i,
        );
        expect(relay.sent().includes(Buffer.from(pg.password))).toBe(false);
      } finally {
        await relay.close();
      }
    },
  );

  it('goes from the inventory (db.tls.mode verify-full, caFile) to the connection', async () => {
    const cluster = {
      db: {
        user: pg.user,
        database: 'postgres',
        password: { env: 'KBOPS_TLS_TEST_PW' },
        tls: { mode: 'verify-full', caFile: pg.caFile },
      },
    } as unknown as ClusterConfig;
    const env = { KBOPS_TLS_TEST_PW: pg.password };
    const client = await connectSql(cluster, { host: pg.host, port: pg.port }, env);
    try {
      expect(await whoAmI(client)).toEqual({ user: 'kbops_tls', ssl: true });
    } finally {
      await client.close();
    }
    const wrong = { ...cluster, db: { ...cluster.db, tls: { mode: 'verify-full', caFile: pg.wrongCaFile } } };
    await expect(connectSql(wrong as ClusterConfig, { host: pg.host, port: pg.port }, env)).rejects.toThrow(
      /certificate/i,
    );
  });
});

describe('a server without TLS', () => {
  it("is used in the clear with prefer (libpq's fallback), and refused with require", async () => {
    const plain = await startThrowawayPostgres(); // trust auth: no password is asked for
    try {
      const port = Number(new URL(plain.url).port);
      const o = { ...options('prefer', { port }), user: 'postgres' };
      const client = await PgSqlClient.connect(o);
      try {
        expect(client.encrypted).toBe(false);
        expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      } finally {
        await client.close();
      }
      await expect(PgSqlClient.connect({ ...o, tls: { mode: 'require' } })).rejects.toThrow(
        'The server does not support SSL connections',
      );
    } finally {
      await plain.stop();
    }
  });
});

describe('a query whose signal fires', () => {
  it('rejects at once and is cancelled on the server (a CancelRequest), the connection still usable', async () => {
    const client = await PgSqlClient.connect(options('require'));
    const watcher = await PgSqlClient.connect(options('require'));
    try {
      const started = Date.now();
      const sleeping = client.query('SELECT pg_sleep(30)', [], { signal: AbortSignal.timeout(300) });
      await expect(sleeping).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(5_000);
      // The server no longer runs it: the backend went idle (cancelled), not still sleeping.
      const deadline = Date.now() + 5_000;
      let running = 1;
      while (running > 0 && Date.now() < deadline) {
        const r = await watcher.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'",
        );
        running = Number(r.rows[0]?.n);
        if (running > 0) await new Promise((res) => setTimeout(res, 100));
      }
      expect(running).toBe(0);
      const after = await client.query('SELECT 1 AS one').catch(() => null);
      // Either the same connection answers again, or it was closed and says so: never a hang.
      if (after) expect(after.rows[0]?.one).toBe(1);
    } finally {
      await client.close();
      await watcher.close();
    }
  });
});

describe('queries that share one connection', () => {
  it('run one at a time in call order; one aborted while waiting leaves the line, the running one is untouched', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const client = await PgSqlClient.connect(options('require'));
    try {
      const order: string[] = [];
      const first = client.query('SELECT pg_sleep(0.6), 1 AS n').then(() => order.push('first'));
      const waiting = client.query('SELECT 2 AS n', [], { signal: AbortSignal.timeout(150) });
      const third = client.query('SELECT 3 AS n').then((r) => order.push(`third ${String(r.rows[0]?.n)}`));
      const started = Date.now();
      await expect(waiting).rejects.toThrow(/aborted while waiting its turn/);
      expect(Date.now() - started).toBeLessThan(500); // it did not wait for the first to finish
      await Promise.all([first, third]);
      expect(order).toEqual(['first', 'third 3']); // the abort cancelled nothing that was not its own
      await new Promise((r) => setImmediate(r));
      expect(warnings.filter((w) => /already executing a query|activeQuery/.test(w))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await client.close();
    }
  });
});
