import type { Target } from '../core/plan';
import type { Dialect } from '../dialects/dialect';
import type { Connector } from '../ports/connector';
import type { ArgvProbe, Parsed, Row, SqlProbe } from '../probes/probe';
import { cmd } from '../shell/shell-command';
import { shellArrayValues, type FileFact, type HaModuleFact } from './cluster-facts';

// Reads a cluster read-only, through the same connector the executor uses, each call bounded in
// time. Callers turn what does not answer into recorded facts (null / error) for a preflight or a
// health report to judge.

const TIMEOUT = 20_000;

export const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));
export const valueOf = <T>(p: Parsed<T>): T | null => (p.ok ? p.value : null);

export class ClusterReader {
  constructor(
    private readonly connector: Connector,
    readonly dialect: Dialect,
  ) {}

  async rows(target: Target, probe: SqlProbe): Promise<Row[]> {
    const client = await this.connector.sql(target);
    return (await client.query(probe.sql, probe.params, { signal: AbortSignal.timeout(TIMEOUT) })).rows;
  }

  async run(target: Target, probe: ArgvProbe) {
    const shell = await this.connector.shell(target);
    return shell.exec(cmd(...(probe.argv as [string, ...string[]])), {
      signal: AbortSignal.timeout(TIMEOUT),
    });
  }

  async file(target: Target, path: string): Promise<{ fact: FileFact; text: string | null }> {
    const f = await (await this.connector.files(target)).read(path, AbortSignal.timeout(TIMEOUT));
    return { fact: { path, sha256: f?.sha256 ?? null }, text: f ? f.content.toString('utf8') : null };
  }

  /** A HAmodule.conf's checksum and membership; null when it is absent or unreadable. */
  async haModule(target: Target, path: string): Promise<HaModuleFact | null> {
    const { fact, text } = await this.file(target, path).catch(() => ({
      fact: { path, sha256: null },
      text: null,
    }));
    if (text === null) return null;
    return {
      ...fact,
      allIps: shellArrayValues(text, 'KB_ALL_IP'),
      hasNodeName: /^\s*NODE_NAME\s*=/m.test(text),
    };
  }

  /** Opens (and keeps) the SSH session: the reachability check with the pinned host key. */
  async login(target: Target): Promise<void> {
    await this.connector.shell(target);
  }
}
