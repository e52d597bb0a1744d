import type { Dialect } from '../dialects/dialect';
import { argvProbe, failed, parsed, type ArgvProbe, type CommandOutput, type Parsed } from './probe';
import { parseVersionText, type ServerVersion } from './server-version';

// Checks on a host, as argv + parser. Error texts are matched in English (run probes with LC_ALL=C)
// and in Chinese, the locale of the write-up's CentOS hosts.

const NO_SUCH_FILE = /No such file or directory|没有那个文件或目录/;
const NOT_A_DIRECTORY = /Not a directory|不是目录/;
const NOT_FOUND = /not found|未找到命令/;

const tail = (o: CommandOutput): string =>
  (o.stderr.trim() || o.stdout.trim()).split('\n').slice(-2).join(' ');
const exited = (o: CommandOutput): string => (o.exitCode === null ? 'was killed' : `exited ${o.exitCode}`);

// ---- free disk ---------------------------------------------------------------------------------

/**
 * `df -Pk -- path parent … /`: the path may not exist yet (the data directory is made later), so every
 * ancestor is asked too. df reports each one that exists, in order, and complains about the rest; the
 * first row is the nearest existing one. The caller needs no separate "which parent exists" probe.
 */
export function diskFreeProbe(path: string): ArgvProbe {
  return argvProbe('df', '-Pk', '--', ...selfAndAncestors(path));
}

/** `/a/b/c` → `['/a/b/c', '/a/b', '/a', '/']`; a relative path is taken as it is. */
export function selfAndAncestors(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  if (!path.startsWith('/')) return [path];
  const out = parts.map((_, i) => `/${parts.slice(0, parts.length - i).join('/')}`);
  return [...out, '/'];
}

export interface DiskFree {
  readonly availableBytes: number;
  readonly totalBytes: number;
  readonly mountPoint: string;
  /** The nearest of the asked paths that exists (the one measured). */
  readonly measuredPath: string;
}

const DF_ROW = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|-)\s+(\/.*)$/;

/** `candidates` are the paths of diskFreeProbe(path).argv after `--`. */
export function parseDiskFree(out: CommandOutput, candidates: readonly string[]): Parsed<DiskFree> {
  const row = out.stdout
    .split('\n')
    .map((l) => DF_ROW.exec(l.trim()))
    .find((m) => m !== null);
  if (!row) return failed(`df ${exited(out)} without a filesystem row: ${tail(out)}`);
  const missing = new Set(
    out.stderr
      .split('\n')
      .filter((l) => NO_SUCH_FILE.test(l))
      .map((l) => /^df: (?:'(.*)'|(.*)): /.exec(l))
      .map((m) => m?.[1] ?? m?.[2]),
  );
  const measuredPath = candidates.find((c) => !missing.has(c)) ?? candidates[0] ?? '';
  return parsed({
    availableBytes: Number(row[4]) * 1024,
    totalBytes: Number(row[2]) * 1024,
    mountPoint: row[6] as string,
    measuredPath,
  });
}

// ---- directory state ---------------------------------------------------------------------------

/** The trailing `/` makes ls fail with "Not a directory" on a file instead of listing its name. */
export function dirStateProbe(dir: string): ArgvProbe {
  return argvProbe('ls', '-A1', '--', dir.endsWith('/') ? dir : `${dir}/`);
}

export type DirState =
  | { readonly state: 'absent' }
  | { readonly state: 'empty' }
  | { readonly state: 'non-empty'; readonly entries: number; readonly sample: readonly string[] }
  | { readonly state: 'not-a-directory' };

export function parseDirState(out: CommandOutput): Parsed<DirState> {
  if (out.exitCode === 0) {
    const names = out.stdout.split('\n').filter((l) => l !== '');
    if (names.length === 0) return parsed({ state: 'empty' });
    return parsed({ state: 'non-empty', entries: names.length, sample: names.slice(0, 5) });
  }
  if (NOT_A_DIRECTORY.test(out.stderr)) return parsed({ state: 'not-a-directory' });
  if (NO_SUCH_FILE.test(out.stderr)) return parsed({ state: 'absent' });
  return failed(`ls ${exited(out)}: ${tail(out)}`); // e.g. permission denied: we cannot tell
}

// ---- listening ports ---------------------------------------------------------------------------

/** Without -H: CentOS 7's ss does not know it; the header line is skipped instead. */
export const listenersProbe: ArgvProbe = argvProbe('ss', '-ltn');

export interface Listener {
  /** As ss prints it without brackets or `%interface`: `0.0.0.0`, `::`, `*`, `127.0.0.11`. */
  readonly address: string;
  readonly port: number;
}

export function parseListeners(out: CommandOutput): Parsed<Listener[]> {
  if (out.exitCode !== 0) return failed(`ss ${exited(out)}: ${tail(out)}`);
  const listeners: Listener[] = [];
  for (const line of out.stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[0] !== 'LISTEN') continue; // the header, blank lines
    const local = fields[3] ?? '';
    const colon = local.lastIndexOf(':');
    const port = Number(local.slice(colon + 1));
    if (colon < 0 || !Number.isInteger(port)) continue;
    // `[::1]:5432`, `:::5432` (older ss), `127.0.0.53%lo:53`, `[fe80::1%eth0]:22`
    const address = local
      .slice(0, colon)
      .replace(/^\[(.*)\]$/, '$1')
      .replace(/%.*$/, '');
    listeners.push({ address, port });
  }
  return parsed(listeners);
}

/**
 * Whether something accepts connections on address:port. `*` and `::` (dual-stack on Linux by default)
 * cover every address; `0.0.0.0` covers the IPv4 ones.
 */
export function isListening(listeners: readonly Listener[], address: string, port: number): boolean {
  const v4 = /^\d+\.\d+\.\d+\.\d+$/.test(address);
  return listeners.some(
    (l) =>
      l.port === port &&
      (l.address === address || l.address === '*' || l.address === '::' || (v4 && l.address === '0.0.0.0')),
  );
}

// ---- crond -------------------------------------------------------------------------------------

/** RHEL names the daemon crond, Debian cron: run both, judge with parseCronRunning. */
export const cronProbes: readonly ArgvProbe[] = [
  argvProbe('pgrep', '-x', 'crond'),
  argvProbe('pgrep', '-x', 'cron'),
];

/** pgrep exits 0 when found, 1 when not; anything else (no pgrep) leaves it unknown. */
export function parseCronRunning(outs: readonly CommandOutput[]): Parsed<boolean> {
  if (outs.some((o) => o.exitCode === 0)) return parsed(true);
  if (outs.length > 0 && outs.every((o) => o.exitCode === 1)) return parsed(false);
  const bad = outs.find((o) => o.exitCode !== 1);
  return failed(bad ? `pgrep ${exited(bad)}: ${tail(bad)}` : 'no pgrep output');
}

// ---- firewall, SELinux -------------------------------------------------------------------------

export const firewalldProbe: ArgvProbe = argvProbe('systemctl', 'is-active', 'firewalld');

/** `unknown`: no systemd, or systemctl could not tell (the unit may be missing: then it is not running). */
export type FirewallState = 'active' | 'inactive' | 'unknown';

export function parseFirewalld(out: CommandOutput): FirewallState {
  const word = out.stdout.trim().split('\n')[0]?.trim();
  if (word === 'active' || word === 'activating' || word === 'reloading') return 'active';
  if (word === 'inactive' || word === 'failed' || word === 'deactivating') return 'inactive';
  return 'unknown';
}

export const selinuxProbe: ArgvProbe = argvProbe('getenforce');

export type SelinuxState = 'Enforcing' | 'Permissive' | 'Disabled' | 'absent';

/** `absent`: no getenforce on the host (Debian without SELinux), i.e. nothing enforces. */
export function parseSelinux(out: CommandOutput): Parsed<SelinuxState> {
  const word = out.stdout.trim().toLowerCase();
  if (out.exitCode === 0 && word === 'enforcing') return parsed('Enforcing');
  if (out.exitCode === 0 && word === 'permissive') return parsed('Permissive');
  if (out.exitCode === 0 && word === 'disabled') return parsed('Disabled');
  if (out.exitCode === 127 || NOT_FOUND.test(out.stderr)) return parsed('absent');
  return failed(`getenforce ${exited(out)}: ${tail(out)}`);
}

// ---- installed server version ------------------------------------------------------------------

/** `<binDir>/postgres --version` or `<binDir>/kingbase --version`. */
export function softwareVersionProbe(d: Dialect, binDir: string): ArgvProbe {
  return argvProbe(`${binDir.replace(/\/+$/, '')}/${d.tools.server}`, '--version');
}

export function parseSoftwareVersion(out: CommandOutput): Parsed<ServerVersion> {
  if (out.exitCode !== 0) return failed(`--version ${exited(out)}: ${tail(out)}`);
  return parseVersionText(out.stdout);
}
