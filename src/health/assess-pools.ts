import type { PoolNode } from '../probes/pool-nodes';
import type { NodeReading, ReportReading } from '../probes/report-reading';
import type { Finding } from './report-model';

// Each cluster manager's view (`show pool_nodes`) against the databases' own word: a pool that
// marks a streaming standby `down` sends it no reads; one that takes a standby for the primary
// sends it writes that fail; a backend nobody listed, or a node the pool lacks, means the
// inventory and the pool disagree on what the cluster is.

const PRIMARY_ROLES = new Set(['primary', 'master']);
const STANDBY_ROLES = new Set(['standby', 'slave']);

const nodeOf = (r: ReportReading, p: PoolNode): NodeReading | undefined =>
  r.nodes.find((n) => n.host === p.hostname && n.sqlPort === p.port);

const streams = (r: ReportReading, n: NodeReading): boolean =>
  n.reachable &&
  (n.name === r.primary ||
    (r.replication ?? []).some((e) => e.applicationName === n.name && e.state === 'streaming'));

export function assessPools(r: ReportReading): Finding[] {
  const out: Finding[] = [];
  const answering = r.pools.filter((p) => p.poolNodes !== null);
  for (const pool of r.pools) {
    const subject = `pool@${pool.node}`;
    if (pool.poolNodes === null) {
      out.push({
        level: answering.length === 0 ? 'red' : 'amber',
        code: 'pool-unreachable',
        subject,
        text: `the pool on ${pool.node} cannot be read: ${pool.problem ?? 'no reason given'}`,
      });
      continue;
    }
    for (const p of pool.poolNodes) {
      const n = nodeOf(r, p);
      const backend = n?.name ?? `${p.hostname}:${p.port}`;
      if (p.status === 'down' && n && streams(r, n)) {
        const isPrimary = n.name === r.primary;
        out.push({
          level: isPrimary ? 'red' : 'amber',
          code: 'pool-says-down',
          subject,
          text: isPrimary
            ? `the pool on ${pool.node} says the primary ${backend} is down: writes through it fail`
            : `the pool on ${pool.node} says ${backend} is down, but it streams: it gets no reads until attached again (pcp_attach_node ${p.nodeId})`,
        });
      } else if (p.status === 'quarantine')
        out.push({
          level: 'amber',
          code: 'pool-says-down',
          subject,
          text: `the pool on ${pool.node} holds ${backend} in quarantine`,
        });
      if (!p.roleStale && n && n.reachable) {
        const wrong =
          (PRIMARY_ROLES.has(p.role) && n.role === 'standby') ||
          (STANDBY_ROLES.has(p.role) && n.role === 'primary');
        if (wrong)
          out.push({
            level: 'red',
            code: 'pool-wrong-primary',
            subject,
            text: `the pool on ${pool.node} takes ${backend} for a ${p.role}, but it is a ${n.role}${r.primary ? ` (the primary is ${r.primary})` : ''}`,
          });
      }
    }
    for (const n of r.nodes.filter((x) => x.inInventory)) {
      if (!pool.poolNodes.some((p) => nodeOf(r, p) === n))
        out.push({
          level: 'amber',
          code: 'pool-missing-node',
          subject,
          text: `${n.name} (${n.host}:${n.sqlPort}) is in the inventory but not a backend of the pool on ${pool.node}`,
        });
    }
  }
  for (const n of r.nodes.filter((x) => !x.inInventory))
    out.push({
      level: 'amber',
      code: 'pool-extra-backend',
      subject: n.name,
      text: `${n.name} (${n.host}:${n.sqlPort}) is a backend of the pool but not in the inventory: add it there`,
    });
  return out;
}
