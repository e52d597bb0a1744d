import type { ClusterConfig } from '../config/normalise-inventory';
import type { SecretName, Target } from '../core/plan';
import type { Connector } from '../ports/connector';

// Connections for one health report. Inventory clusters that reach the same servers with the same
// logins (the same SSH and database settings, the same nodes with the same pinned host keys) are
// the same servers: they share one connector, so a report over many such clusters opens one SSH
// session and one SQL connection per server instead of one per cluster (and does not exhaust a
// pool's children). Clusters that differ in anything that decides how kbops logs in never share.

const CLOSE_GRACE_MS = 2_000;

/** Everything a connector's logins depend on; equal keys log in identically everywhere. */
export function loginKey(c: ClusterConfig): string {
  const nodes = c.nodes
    .map((n) => [n.host, n.sshPort, n.sqlPort, [...n.hostKeys].sort()] as const)
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return JSON.stringify({
    dialect: c.dialect,
    ssh: c.ssh,
    db: c.db,
    nodes,
    pcp: c.manager?.pcpPassword ?? null,
  });
}

export class SharedConnections {
  private readonly shared = new Map<string, Connector>();

  constructor(private readonly connectorFor: (cluster: ClusterConfig) => Connector) {}

  /** The cluster's connector for this report; closing it does nothing (closeAll does). */
  for(cluster: ClusterConfig): Connector {
    const key = loginKey(cluster);
    let c = this.shared.get(key);
    if (!c) {
      c = this.connectorFor(cluster);
      this.shared.set(key, c);
    }
    const inner = c;
    return {
      shell: (t: Target) => inner.shell(t),
      sql: (t: Target, database?: string) => inner.sql(t, database),
      files: (t: Target) => inner.files(t),
      secret: (name: SecretName) => inner.secret(name),
      close: () => Promise.resolve(),
    };
  }

  /** Closes every connection; one that hangs on close does not hold the report past a grace. */
  async closeAll(): Promise<void> {
    const all = [...this.shared.values()];
    this.shared.clear();
    await Promise.race([
      Promise.all(all.map((c) => c.close().catch(() => undefined))),
      new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref()),
    ]);
  }

  get size(): number {
    return this.shared.size;
  }
}
