// Cross-field rules. They read the raw document defensively so that they can run even when the
// schema found problems elsewhere: the operator sees every problem in one go, not one per start.

import { DEFAULT_THRESHOLDS, type WarnCritical } from '../core/health-levels';
import { byteSizeText, parseByteSize } from './report-schedules';

export interface ConfigProblem {
  /** Where, in the form clusters.ESHA.nodes[2].host ("" for the whole file). */
  readonly path: string;
  readonly message: string;
}

export const formatPath = (segments: readonly PropertyKey[]): string =>
  segments.reduce<string>((acc, seg) => {
    if (typeof seg === 'number') return `${acc}[${seg}]`;
    const key = String(seg);
    return acc === '' ? key : `${acc}.${key}`;
  }, '');

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const DEFAULT_SQL_PORT: Record<string, number> = { 'kingbase-v8r3': 54321, postgresql: 5432 };

export const defaultSqlPort = (dialect: string): number => DEFAULT_SQL_PORT[dialect] ?? 5432;

function clusterProblems(name: string, cluster: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const base = `clusters.${name}`;
  const nodes = arr(cluster.nodes);
  const clusterPort =
    typeof cluster.sqlPort === 'number' ? cluster.sqlPort : defaultSqlPort(String(cluster.dialect));
  const ssh = isRecord(cluster.ssh) ? cluster.ssh : {};

  const byName = new Map<string, number>();
  const byEndpoint = new Map<string, string>();
  nodes.forEach((node, i) => {
    if (!isRecord(node)) return;
    const nodeName = str(node.name);
    if (nodeName !== undefined) {
      const first = byName.get(nodeName);
      if (first !== undefined) {
        problems.push({
          path: `${base}.nodes[${i}].name`,
          message: `duplicate node name "${nodeName}" (already used by nodes[${first}])`,
        });
      } else byName.set(nodeName, i);
    }
    const host = str(node.host);
    if (host !== undefined) {
      const port = typeof node.sqlPort === 'number' ? node.sqlPort : clusterPort;
      const endpoint = `${host}:${port}`;
      const other = byEndpoint.get(endpoint);
      if (other !== undefined) {
        problems.push({
          path: `${base}.nodes[${i}].host`,
          message: `${endpoint} is already node "${other}": two nodes cannot share a host and SQL port`,
        });
      } else byEndpoint.set(endpoint, nodeName ?? `nodes[${i}]`);
    }
    if (node.hostKeys === undefined && ssh.knownHostsFile === undefined) {
      problems.push({
        path: `${base}.nodes[${i}].hostKeys`,
        message: `no pinned SSH host key for node "${nodeName ?? i}": set ${base}.ssh.knownHostsFile or hostKeys (kbops never trusts on first use)`,
      });
    }
  });

  problems.push(...tlsProblems(base, cluster.db));

  if (isRecord(cluster.manager)) {
    const manager = cluster.manager;
    const managerNodes = arr(manager.nodes);
    const seen = new Map<string, number>();
    managerNodes.forEach((m, i) => {
      if (!isRecord(m)) return;
      const ref = str(m.node);
      if (ref === undefined) return;
      if (!byName.has(ref)) {
        problems.push({
          path: `${base}.manager.nodes[${i}].node`,
          message: `no node named "${ref}" in ${base}.nodes (known: ${[...byName.keys()].join(', ') || 'none'})`,
        });
      }
      const first = seen.get(ref);
      if (first !== undefined) {
        problems.push({
          path: `${base}.manager.nodes[${i}].node`,
          message: `node "${ref}" is listed twice as a manager node (also manager.nodes[${first}])`,
        });
      } else seen.set(ref, i);
    });
    if (manager.kind === 'kingbasecluster') {
      if (cluster.dialect !== undefined && cluster.dialect !== 'kingbase-v8r3') {
        problems.push({
          path: `${base}.manager.kind`,
          message: 'kingbasecluster manages KingbaseES V8R3 only: use kind pgpool, or dialect kingbase-v8r3',
        });
      }
      if (managerNodes.length > 2) {
        problems.push({
          path: `${base}.manager.nodes`,
          message: `KingbaseES V8R3 supports at most two kingbasecluster nodes, found ${managerNodes.length}`,
        });
      }
    }
  }
  return problems;
}

function tlsProblems(base: string, db: unknown): ConfigProblem[] {
  const tls = isRecord(db) && isRecord(db.tls) ? db.tls : undefined;
  if (tls === undefined) return [];
  const mode = str(tls.mode) ?? 'prefer';
  if ((mode === 'verify-ca' || mode === 'verify-full') && tls.caFile === undefined) {
    return [
      {
        path: `${base}.db.tls.caFile`,
        message: `db.tls.mode ${mode} verifies the server's certificate: give the CA that signed it in caFile`,
      },
    ];
  }
  if ((mode === 'disable' || mode === 'prefer') && tls.caFile !== undefined) {
    return [
      {
        path: `${base}.db.tls.caFile`,
        message: `db.tls.mode ${mode} never checks a certificate, so caFile would be ignored: use require, verify-ca or verify-full`,
      },
    ];
  }
  return [];
}

// warn ≤ critical, a part left out taking its default. An unreadable value is the schema's problem.
function warnCriticalProblems(
  base: string,
  pair: unknown,
  fallback: WarnCritical,
  read: (v: unknown) => number | undefined,
  unit: (n: number) => string,
): ConfigProblem[] {
  if (!isRecord(pair)) return [];
  const value = (key: 'warn' | 'critical') => (pair[key] === undefined ? fallback[key] : read(pair[key]));
  const text = (key: 'warn' | 'critical', n: number) =>
    pair[key] === undefined
      ? `the default ${key} ${unit(n)}`
      : `${key} ${typeof pair[key] === 'string' ? pair[key] : unit(n)}`;
  const warn = value('warn');
  const critical = value('critical');
  if (warn === undefined || critical === undefined || warn <= critical) return [];
  return [
    {
      path: `${base}.warn`,
      message: `${text('warn', warn)} is above ${text('critical', critical)}: warn must not exceed critical`,
    },
  ];
}

const seconds = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

function reportProblems(name: string, schedule: Record<string, unknown>, known?: string[]): ConfigProblem[] {
  const base = `reports.${name}`;
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, number>();
  arr(schedule.clusters).forEach((c, i) => {
    if (typeof c !== 'string') return;
    if (known !== undefined && !known.includes(c)) {
      problems.push({
        path: `${base}.clusters[${i}]`,
        message: `no cluster named "${c}" in clusters (known: ${known.join(', ') || 'none'})`,
      });
    }
    const first = seen.get(c);
    if (first !== undefined) {
      problems.push({
        path: `${base}.clusters[${i}]`,
        message: `cluster "${c}" is listed twice (also clusters[${first}])`,
      });
    } else seen.set(c, i);
  });
  const t = isRecord(schedule.thresholds) ? schedule.thresholds : {};
  const D = DEFAULT_THRESHOLDS;
  problems.push(
    ...warnCriticalProblems(
      `${base}.thresholds.lagBytes`,
      t.lagBytes,
      D.lagBytes,
      parseByteSize,
      byteSizeText,
    ),
    ...warnCriticalProblems(
      `${base}.thresholds.lagSeconds`,
      t.lagSeconds,
      D.lagSeconds,
      seconds,
      (n) => `${n} s`,
    ),
  );
  return problems;
}

/** Rules that span fields. Works on the raw document; shape errors are the schema's job. */
export function inventoryProblems(raw: unknown): ConfigProblem[] {
  if (!isRecord(raw)) return [];
  const clusters = isRecord(raw.clusters) ? raw.clusters : {};
  return [
    ...Object.entries(clusters).flatMap(([name, cluster]) =>
      isRecord(cluster) ? clusterProblems(name, cluster) : [],
    ),
    ...Object.entries(isRecord(raw.reports) ? raw.reports : {}).flatMap(([name, schedule]) =>
      isRecord(schedule)
        ? reportProblems(name, schedule, isRecord(raw.clusters) ? Object.keys(clusters) : undefined)
        : [],
    ),
  ];
}
