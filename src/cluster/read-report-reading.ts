import type { ClusterConfig, NodeConfig } from '../config/normalise-inventory';
import type { Target } from '../core/plan';
import type { Dialect } from '../dialects/dialect';
import type { Connector } from '../ports/connector';
import { archiverSql, parseArchiver } from '../probes/archiver';
import { dataDirDiskProbe, parseDataDirDisk } from '../probes/data-dir-disk';
import type { Parsed } from '../probes/probe';
import { parseReplayDelay, replayDelaySql } from '../probes/replay-delay';
import type {
  ArchiverState,
  DiskFree,
  NodeReading,
  ReplicationReading,
  ReportReading,
} from '../probes/report-reading';
import type { ReplicationSlot } from '../probes/slots';
import { parseTimeline, timelineSql } from '../probes/timeline';
import { lsnDiff } from '../probes/wal-position';
import { BoundedReader } from './bounded-reader';
import { errorText } from './cluster-reader';
import { withDeadline, type Deadline } from './deadline';
import {
  addedNodes,
  noPrimary,
  readNode,
  readPool,
  readReplication,
  readSlots,
  type ReplicationRead,
} from './health-parts';
import { targetOf } from './target-of';

// A health report's reading of one cluster (src/probes/report-reading.ts): what `/kingbase status`
// reads, plus timelines, replay delay, free disk and the WAL archiver. Every node, every pool and
// the primary's replication, slots and archiver are each read under their own deadline of
// nodeTimeoutMs, side by side: a dead host costs that bound once, and the rest is complete. Only
// slow live hosts chain bounds (a pool, then a node only it knows, then that primary's extras):
// the whole reading takes at most 3 × nodeTimeoutMs.

export interface ReportContext {
  readonly dialect: Dialect;
  /** Read-only use only. The caller closes it (which also stops connects still in progress). */
  readonly connector: Connector;
  readonly now: Date;
  /** The bound on each node's whole reading (connect, SQL and SSH), each pool's, and the primary's extras. */
  readonly nodeTimeoutMs: number;
}

interface PrimaryExtras {
  readonly replication: ReplicationRead;
  readonly slots: { slots: ReplicationSlot[] | null; problem: string | null };
  readonly archiver: { archiver: ArchiverState | null; problem: string | null };
}

interface NodeResult {
  readonly reading: NodeReading;
  /** Started as soon as the node said it is the primary, under a deadline of its own. */
  readonly extras: Promise<PrimaryExtras> | null;
}

const bounded = <T>(ctx: ReportContext, work: (r: BoundedReader) => Promise<T>): Promise<T> =>
  withDeadline(ctx.nodeTimeoutMs, (d: Deadline) => work(new BoundedReader(ctx.connector, ctx.dialect, d)));

const reasonOf = <T>(p: Parsed<T>): string | null => (p.ok ? null : p.reason);
const failedWith = (err: unknown): Parsed<never> => ({ ok: false, reason: errorText(err) });

async function readArchiver(
  r: BoundedReader,
  t: Target,
): Promise<{ archiver: ArchiverState | null; problem: string | null }> {
  try {
    const p = parseArchiver(await r.rows(t, archiverSql(r.dialect)));
    return p.ok ? { archiver: p.value, problem: null } : { archiver: null, problem: p.reason };
  } catch (err) {
    return {
      archiver: null,
      problem: `cannot read ${r.dialect.sql.statArchiver} on ${t.name}: ${errorText(err)}`,
    };
  }
}

/**
 * Replication, slots and archiver, one after the other (they share the primary's one connection)
 * under one deadline of their own, started once the node's own reading is done.
 */
function readPrimaryExtras(ctx: ReportContext, n: NodeConfig): Promise<PrimaryExtras> {
  const t = targetOf(n);
  return bounded(ctx, async (r) => {
    const replication = await readReplication(r, t);
    const slots = await readSlots(r, t);
    const archiver = await readArchiver(r, t);
    return { replication, slots, archiver };
  });
}

async function readDisk(
  r: BoundedReader,
  n: NodeConfig,
): Promise<{ disk: DiskFree | null; diskProblem: string | null }> {
  try {
    const p = parseDataDirDisk(await r.run(targetOf(n), dataDirDiskProbe(n.dataDir)), n.dataDir);
    return p.ok ? { disk: p.value, diskProblem: null } : { disk: null, diskProblem: p.reason };
  } catch (err) {
    return { disk: null, diskProblem: `cannot run df over SSH: ${errorText(err)}` };
  }
}

/** Role, position, timeline and (on a standby) replay delay, over SQL, one query at a time. */
async function readNodeSql(ctx: ReportContext, r: BoundedReader, n: NodeConfig) {
  const health = await readNode(r, n);
  if (!health.reachable) return { health, timeline: null, replayDelaySeconds: null };
  const t = targetOf(n);
  const timeline = await r.rows(t, timelineSql(ctx.dialect)).then(parseTimeline, failedWith);
  const delay =
    health.role === 'standby'
      ? await r.rows(t, replayDelaySql(ctx.dialect)).then(parseReplayDelay, failedWith)
      : null;
  const problems = [
    health.problem,
    reasonOf(timeline) && `timeline unknown: ${reasonOf(timeline)}`,
    delay && reasonOf(delay) && `replay delay unknown: ${reasonOf(delay)}`,
  ].filter((p): p is string => typeof p === 'string');
  return {
    health: { ...health, problem: problems.length > 0 ? problems.join('; ') : null },
    timeline: timeline.ok ? timeline.value : null,
    replayDelaySeconds: delay?.ok ? delay.value : null,
  };
}

async function readNodeReading(ctx: ReportContext, n: NodeConfig, inInventory: boolean): Promise<NodeResult> {
  const started = performance.now();
  // SQL and SSH side by side under one deadline: a node costs the slower of the two, at most the bound.
  // A primary's extras start as soon as its SQL part is done, under their own deadline.
  const [sql, disk] = await withDeadline(ctx.nodeTimeoutMs, (d) => {
    const r = new BoundedReader(ctx.connector, ctx.dialect, d);
    const sqlPart = readNodeSql(ctx, r, n).then((x) => ({
      ...x,
      extras: x.health.role === 'primary' ? readPrimaryExtras(ctx, n) : null,
    }));
    return Promise.all([sqlPart, readDisk(r, n)]);
  });
  return {
    reading: {
      ...sql.health,
      inInventory,
      timeline: sql.timeline,
      replayDelaySeconds: sql.replayDelaySeconds,
      ...disk,
      readMs: Math.round(performance.now() - started),
    },
    extras: sql.extras,
  };
}

function withSentLag(rep: ReplicationRead): ReplicationReading[] | null {
  const current = rep.current;
  return (
    rep.replication?.map((e) => {
      const bytes = current !== null && e.sent !== null ? lsnDiff(current, e.sent) : null;
      return { ...e, sentLagBytes: bytes === null ? null : Number(bytes) };
    }) ?? null
  );
}

export async function readReportReading(cluster: ClusterConfig, ctx: ReportContext): Promise<ReportReading> {
  const started = performance.now();
  const readAt = ctx.now.toISOString();
  const manager = cluster.manager;
  const poolsRead = manager
    ? Promise.all(manager.nodes.map((mn) => bounded(ctx, (r) => readPool(r, cluster, mn))))
    : Promise.resolve([]);
  // A backend the manager has and the inventory does not (a node added since) is read as soon as
  // the pools answer, alongside the inventory's own nodes.
  const addedRead = poolsRead.then((pools) => {
    const added = addedNodes(cluster, pools);
    return Promise.all(added.map((n) => readNodeReading(ctx, n, false))).then((results) => ({
      added,
      results,
    }));
  });
  const [inventoried, pools, added] = await Promise.all([
    Promise.all(cluster.nodes.map((n) => readNodeReading(ctx, n, true))),
    poolsRead,
    addedRead,
  ]);
  const results = [...inventoried, ...added.results];
  const nodes = results.map((x) => x.reading);
  const base = {
    cluster: cluster.name,
    dialect: cluster.dialect,
    readAt,
    nodes,
    pools,
    nodeTimeoutMs: ctx.nodeTimeoutMs,
  };
  // Every primary's extras are awaited (each bounded), so nothing is left running when this returns.
  const allExtras = await Promise.all(results.map((x) => x.extras));
  const primaries = results.flatMap((x, i) => (x.reading.role === 'primary' ? [i] : []));
  const at = primaries.length === 1 ? primaries[0]! : -1;
  const primary = results[at];
  const extras = allExtras[at] ?? undefined;
  const readMs = (): number => Math.round(performance.now() - started);
  if (!primary || !extras) {
    const why = noPrimary(nodes);
    return {
      ...base,
      primary: null,
      replication: null,
      replicationProblem: why,
      slots: null,
      slotsProblem: why,
      archiver: null,
      archiverProblem: why,
      readMs: readMs(),
    };
  }
  return {
    ...base,
    primary: primary.reading.name,
    replication: withSentLag(extras.replication),
    replicationProblem: extras.replication.problem,
    slots: extras.slots.slots,
    slotsProblem: extras.slots.problem,
    archiver: extras.archiver.archiver,
    archiverProblem: extras.archiver.problem,
    readMs: readMs(),
  };
}
