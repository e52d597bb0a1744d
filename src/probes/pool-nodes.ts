import { failed, parsed, sqlProbe, type Parsed, type Row, type SqlProbe } from './probe';
import { columnList, definedOnly, missingColumns, rowReader, show } from './row-reader';

// `show pool_nodes` through pgpool-II or kingbasecluster. Its columns grew in nearly every version, so
// everything is read by name (procedure §6):
//   ≤ 3.4  node_id, hostname, port, status, lb_weight, role
//   3.5    + select_cnt
//   3.6/3.7 (kingbasecluster in V8R3) + load_balance_node, replication_delay
//   4.0    + last_status_change
//   4.1    + replication_state, replication_sync_state
//   4.3    + pg_status, pg_role

export const POOL_NODES_SQL = 'show pool_nodes';
export const poolNodesProbe: SqlProbe = sqlProbe(POOL_NODES_SQL);

/** `waiting` is normal until a client has connected through the pool since the node came up. */
export type PoolNodeStatus = 'up' | 'down' | 'waiting' | 'unused' | 'quarantine' | (string & {});

export interface PoolNode {
  readonly nodeId: number;
  readonly hostname: string;
  readonly port: number;
  /** Lower-cased. */
  readonly status: PoolNodeStatus;
  /** Relative weights as fractions: three nodes of weight 1 show 0.333333. */
  readonly lbWeight: number;
  /** Lower-cased: primary | standby (older pgpool modes: master | slave). */
  readonly role: string;
  /** True for a `down` node: pgpool stops updating its role and replication columns, so they are stale. */
  readonly roleStale: boolean;
  readonly selectCount?: number;
  readonly loadBalanceNode?: boolean;
  /** As pgpool shows it: bytes of WAL behind (seconds with pgpool ≥ 4.4's delay_threshold_by_time). */
  readonly replicationDelay?: number;
  readonly replicationState?: string;
  readonly replicationSyncState?: string;
  /** pgpool ≥ 4.3: what the backend itself says now, as opposed to pgpool's own status and role. */
  readonly pgStatus?: string;
  readonly pgRole?: string;
  readonly lastStatusChange?: string;
}

const REQUIRED = ['node_id', 'hostname', 'port', 'status', 'lb_weight', 'role'];

/** Rows of `show pool_nodes` (from a SqlClient or parsePsqlTable), by column name, in row order. */
export function parsePoolNodes(rows: readonly Row[]): Parsed<PoolNode[]> {
  const missing = missingColumns(rows, REQUIRED);
  if (missing.length > 0) {
    return failed(`show pool_nodes has no ${missing.join(', ')} column (columns: ${columnList(rows)})`);
  }
  const nodes: PoolNode[] = [];
  for (const [i, row] of rows.entries()) {
    const r = rowReader(row);
    const nodeId = r.int('node_id');
    const port = r.int('port');
    const lbWeight = r.num('lb_weight');
    const hostname = r.text('hostname');
    const status = r.text('status')?.toLowerCase();
    const where = `show pool_nodes row ${i + 1}`;
    if (nodeId == null) return failed(`${where}: node_id is not a number (${show(r.raw('node_id'))})`);
    if (port == null) return failed(`${where}: port is not a number (${show(r.raw('port'))})`);
    if (lbWeight == null) return failed(`${where}: lb_weight is not a number (${show(r.raw('lb_weight'))})`);
    if (hostname === null) return failed(`${where}: hostname is empty`);
    if (status === undefined) return failed(`${where}: status is empty`);
    const optional = {
      selectCount: r.int('select_cnt') ?? undefined,
      loadBalanceNode: r.bool('load_balance_node') ?? undefined,
      replicationDelay: leadingNumber(r.text('replication_delay')),
      replicationState: r.text('replication_state') ?? undefined,
      replicationSyncState: r.text('replication_sync_state') ?? undefined,
      pgStatus: r.text('pg_status')?.toLowerCase(),
      pgRole: r.text('pg_role')?.toLowerCase(),
      lastStatusChange: r.text('last_status_change') ?? undefined,
    };
    nodes.push({
      nodeId,
      hostname,
      port,
      status,
      lbWeight,
      role: r.text('role')?.toLowerCase() ?? '',
      roleStale: status === 'down',
      ...definedOnly(optional),
    });
  }
  return parsed(nodes);
}

/** pgpool ≥ 4.4 may print a unit after the delay; the number is what matters. */
function leadingNumber(text: string | null): number | undefined {
  const m = text === null ? null : /^-?\d+(\.\d+)?/.exec(text);
  return m ? Number(m[0]) : undefined;
}
