import { access, constants } from 'node:fs/promises';
import { run } from './lab-exec';

// The lab needs Debian's PostgreSQL 15, OpenSSH server and pgpool-II. As root it installs what is
// missing; otherwise it says exactly what to install.

export const PG_BIN = '/usr/lib/postgresql/15/bin';

const REQUIRED: ReadonlyArray<{ path: string; pkg: string }> = [
  ...[
    'postgres',
    'initdb',
    'pg_ctl',
    'pg_basebackup',
    'pg_controldata',
    'pg_rewind',
    'pg_isready',
    'psql',
  ].map((tool) => ({ path: `${PG_BIN}/${tool}`, pkg: 'postgresql-15' })),
  { path: '/usr/sbin/sshd', pkg: 'openssh-server' },
  { path: '/usr/bin/ssh-keygen', pkg: 'openssh-server' },
  { path: '/usr/bin/ssh', pkg: 'openssh-server' },
  { path: '/usr/sbin/pgpool', pkg: 'pgpool2' },
  { path: '/usr/sbin/pcp_attach_node', pkg: 'pgpool2' },
  { path: '/usr/sbin/useradd', pkg: 'passwd' },
];

const exists = (path: string) =>
  access(path, constants.X_OK).then(
    () => true,
    () => false,
  );

export async function missingPackages(): Promise<string[]> {
  const missing = new Set<string>();
  for (const r of REQUIRED) if (!(await exists(r.path))) missing.add(r.pkg);
  return [...missing];
}

export async function ensurePackages(say: (line: string) => void): Promise<void> {
  const missing = await missingPackages();
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`the lab needs Debian packages that are not installed: run as root:\n  ${command}`);
  }
  say(`installing ${missing.join(', ')} (apt-get)…`);
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-q'], { env, timeoutMs: 600_000 });
  await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
    env,
    timeoutMs: 900_000,
  });
  const still = await missingPackages();
  if (still.length > 0) throw new Error(`still missing after apt-get install: ${still.join(', ')}`);
}
