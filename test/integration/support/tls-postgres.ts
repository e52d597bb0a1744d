import { randomBytes } from 'node:crypto';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { run } from '../../../lab/lab-exec';
import { lookupUser } from '../../../lab/lab-state';
import { registerTestSecret } from '../../support/artifacts';
import { startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-postgres';

// A throwaway PostgreSQL that asks for the password in clear text (pg_hba `password`), with TLS on,
// and the certificates to talk to it: a CA that signed its certificate (SAN IP:127.0.0.1) and an
// unrelated CA. The superuser keeps trust auth, for setting up only.

export interface TlsPostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The CA that signed the server's certificate (a file). */
  readonly caFile: string;
  /** A CA that did not. */
  readonly wrongCaFile: string;
  stop(): Promise<void>;
}

const PASSWORD = `Tls-${randomBytes(9).toString('base64url')}`;

const openssl = (dir: string, args: string[]) => run('openssl', args, { env: { HOME: dir } });

async function makeCa(dir: string, name: string): Promise<{ key: string; cert: string }> {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  await openssl(
    dir,
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
    ]),
  );
  return { key, cert };
}

export async function startTlsPostgres(): Promise<TlsPostgres> {
  const pg: ThrowawayPostgres = await startThrowawayPostgres();
  const dir = await mkdtemp(join(tmpdir(), 'kbops-tls-'));
  try {
    const ca = await makeCa(dir, 'ca');
    const wrong = await makeCa(dir, 'wrong-ca');
    const serverKey = join(dir, 'server.key');
    const csr = join(dir, 'server.csr');
    const serverCert = join(dir, 'server.pem');
    const ext = join(dir, 'server.ext');
    await writeFile(ext, 'subjectAltName = IP:127.0.0.1\n');
    await openssl(
      dir,
      ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
        '-keyout',
        serverKey,
        '-out',
        csr,
        '-subj',
        '/CN=127.0.0.1',
      ]),
    );
    await openssl(
      dir,
      ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial'].concat([
        '-out',
        serverCert,
        '-days',
        '2',
        '-extfile',
        ext,
      ]),
    );

    const admin = new Client({ connectionString: pg.url });
    await admin.connect();
    try {
      const dataDir = (
        await admin.query<{ d: string }>('SELECT current_setting($1) AS d', ['data_directory'])
      ).rows[0]!.d;
      // The server reads its key only if the key is its own and private.
      const owner = process.getuid?.() === 0 ? await lookupUser('kingbase') : undefined;
      if (owner) for (const f of [dir, serverKey, serverCert]) await chown(f, owner.uid, owner.gid);
      const hba = [
        'local all all trust',
        'host all postgres 127.0.0.1/32 trust',
        'host all all 127.0.0.1/32 password',
      ];
      await writeFile(join(dataDir, 'pg_hba.conf'), `${hba.join('\n')}\n`);
      await admin.query(`ALTER SYSTEM SET ssl = on`);
      await admin.query(`ALTER SYSTEM SET ssl_cert_file = '${serverCert}'`);
      await admin.query(`ALTER SYSTEM SET ssl_key_file = '${serverKey}'`);
      await admin.query(`CREATE ROLE kbops_tls LOGIN PASSWORD '${PASSWORD}'`);
      await admin.query('SELECT pg_reload_conf()');
    } finally {
      await admin.end();
    }
    const port = Number(new URL(pg.url).port);
    await untilTlsServed(port);
    registerTestSecret(PASSWORD); // the secret scan looks for it in everything the tests kept
    return {
      host: '127.0.0.1',
      port,
      user: 'kbops_tls',
      password: PASSWORD,
      caFile: ca.cert,
      wrongCaFile: wrong.cert,
      async stop() {
        await pg.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A reload is asynchronous: wait until the server answers an SSLRequest with TLS. */
async function untilTlsServed(port: number): Promise<void> {
  for (let i = 0; ; i++) {
    const probe = new Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      ssl: { rejectUnauthorized: false },
    });
    try {
      await probe.connect();
      await probe.end();
      return;
    } catch (err) {
      await probe.end().catch(() => undefined);
      if (i >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
