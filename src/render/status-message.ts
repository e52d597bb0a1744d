import type { ClusterHealth, PoolHealth, ReplicationHealth } from '../probes/cluster-health';
import { chunkLines, fitMessage, SLACK_LIMITS } from './limits';
import { context, header, section, type KnownBlock, type SlackMessage } from './slack-message';
import { esc, freeText, MARK, plural, slackDate } from './slack-text';
import { bytesText, secondsText } from '../health/health-units';

export { bytesText, secondsText };

// `/kingbase status <cluster>`: one health reading (src/cluster/read-cluster-health.ts) as a summary
// with a mark per part, then aligned tables: the nodes as they say they are, the primary's standbys
// with their lag, its slots, and each cluster manager's view of its backends. What could not be read
// shows as unknown with the reason, never as fine.

const MAX_ROWS = 60;
const UNKNOWN = '?';

/** Rows as aligned columns (cells escaped), at most MAX_ROWS, then how many more. */
function table(rows: readonly (readonly string[])[], what: string): string[] {
  const shown = rows.slice(0, MAX_ROWS + 1);
  const widths = shown[0]?.map((_, c) => Math.max(...shown.map((r) => (r[c] ?? '').length))) ?? [];
  const lines = shown.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd(),
  );
  const more = rows.length - shown.length;
  return [...lines.map(esc), ...(more > 0 ? [`… ${more} more ${what}`] : [])];
}

function tableBlocks(title: string, lines: readonly string[]): KnownBlock[] {
  return chunkLines(lines, SLACK_LIMITS.sectionText - title.length - 30, true).map((c, i) =>
    section(`${i === 0 ? title : `${title} _(continued)_`}\n${c}`),
  );
}

const some = <T>(items: readonly T[], show: (t: T) => string, max = 10): string =>
  `${items.slice(0, max).map(show).join(', ')}${items.length > max ? `, … ${items.length - max} more` : ''}`;

function nodesSummary(h: ClusterHealth): string[] {
  const silent = h.nodes.filter((n) => !n.reachable);
  const unsure = h.nodes.filter((n) => n.reachable && n.role === 'unknown');
  const out: string[] = [];
  if (silent.length > 0)
    out.push(`${MARK.fail} ${some(silent, (n) => `${esc(n.name)} (${esc(n.host)}) does not answer`)}`);
  if (unsure.length > 0) out.push(`${MARK.warn} ${some(unsure, (n) => esc(n.name))}: role unknown`);
  if (h.primary === null) out.push(`${MARK.fail} ${freeText(h.replicationProblem ?? 'no primary')}`);
  else if (silent.length === 0 && unsure.length === 0)
    out.push(`${MARK.pass} all ${plural(h.nodes.length, 'node')} answer; ${esc(h.primary)} is the primary`);
  return out;
}

function replicationSummary(h: ClusterHealth): string[] {
  if (h.primary === null) return []; // said by nodesSummary
  const entries = h.replication;
  if (entries === null) return [`${MARK.fail} the primary's replication view could not be read`];
  const streaming = new Set(entries.filter((e) => e.state === 'streaming').map((e) => e.applicationName));
  // Every other inventory node is meant to stream from the primary, answering or not.
  const missing = h.nodes.filter((n) => n.name !== h.primary && !streaming.has(n.name));
  const out = [
    missing.length > 0
      ? `${MARK.fail} ${some(missing, (n) => esc(n.name))} not streaming from ${esc(h.primary)}`
      : entries.length === 0
        ? `${MARK.warn} no standby is connected to the primary`
        : `${MARK.pass} ${streaming.size} of ${plural(entries.length, 'standby', 'standbys')} streaming`,
  ];
  const unknownLag = entries.filter((e) => e.lagBytes === null);
  if (unknownLag.length > 0)
    out.push(`${MARK.warn} lag unknown for ${some(unknownLag, (e) => esc(e.applicationName || '-'))}`);
  return out;
}

function poolSummary(p: PoolHealth, named: boolean): string {
  const who = named ? `${esc(p.node)}'s pool: ` : '';
  if (p.poolNodes === null)
    return `${MARK.fail} ${who}the cluster manager did not answer \`show pool_nodes\``;
  const bad = p.poolNodes.filter((n) => n.status !== 'up' && n.status !== 'waiting');
  if (bad.length === 0)
    return `${MARK.pass} ${who}${p.poolNodes.length} of ${plural(p.poolNodes.length, 'pool node')} up`;
  return `${MARK.fail} ${who}${some(bad, (n) => `node ${n.nodeId} (${esc(n.hostname)}) is ${esc(n.status)}`)}`;
}

function slotsSummary(h: ClusterHealth): string[] {
  if (h.primary === null) return [];
  if (h.slots === null) return [`${MARK.warn} the primary's replication slots could not be read`];
  // An inactive slot keeps WAL until someone uses or drops it: it fills the primary's disk.
  const holding = h.slots.filter((s) => !s.active && (s.retainedBytes ?? 0) > 0);
  return holding.length === 0
    ? []
    : [
        `${MARK.warn} inactive ${holding.length === 1 ? 'slot holds' : 'slots hold'} WAL: ${some(
          holding,
          (s) => `${esc(s.name)} (${bytesText(s.retainedBytes!)})`,
        )}`,
      ];
}

const lagCells = (e: ReplicationHealth): string[] => [
  e.lagBytes === null ? UNKNOWN : bytesText(e.lagBytes),
  e.lagSeconds === null ? UNKNOWN : secondsText(e.lagSeconds),
];

/** Every problem the reading met, once each, in reading order. */
function problems(h: ClusterHealth): string[] {
  const all = [
    ...h.nodes.flatMap((n) => (n.problem === null ? [] : [`${n.name}: ${n.problem}`])),
    ...(h.primary === null ? [] : [h.replicationProblem, h.slotsProblem]),
    ...h.pools.map((p) => p.problem),
  ].filter((p): p is string => p !== null);
  return [...new Set(all)];
}

function fallback(h: ClusterHealth): string {
  const answer = h.nodes.filter((n) => n.reachable).length;
  const pools = h.pools.map((p) =>
    p.poolNodes === null
      ? `${h.pools.length > 1 ? `${p.node}'s ` : ''}pool did not answer`
      : `${p.poolNodes.filter((n) => n.status === 'up').length}/${p.poolNodes.length} pool nodes up${h.pools.length > 1 ? ` on ${p.node}` : ''}`,
  );
  const rep =
    h.replication === null
      ? 'replication unknown'
      : `${h.replication.filter((e) => e.state === 'streaming').length} of ${h.replication.length} standbys streaming`;
  return esc(`${h.cluster}: ${answer}/${h.nodes.length} nodes answer, ${[...pools, rep].join(', ')}`);
}

export function statusMessage(h: ClusterHealth): SlackMessage {
  const summary = [
    ...nodesSummary(h),
    ...replicationSummary(h),
    ...h.pools.map((p) => poolSummary(p, h.pools.length > 1)),
    ...slotsSummary(h),
  ];
  const blocks: KnownBlock[] = [
    header(`Cluster ${h.cluster}`),
    ...chunkLines(summary, SLACK_LIMITS.sectionText).map(section),
  ];
  const nodeRows = [
    ['node', 'host', 'port', 'answers', 'role', 'wal position'],
    ...h.nodes.map((n) => [
      n.name,
      n.host,
      String(n.sqlPort),
      n.reachable ? 'yes' : 'no',
      n.role === 'unknown' ? UNKNOWN : n.role,
      n.walPosition ?? (n.role === 'unknown' ? UNKNOWN : '-'),
    ]),
  ];
  blocks.push(...tableBlocks('*Nodes*', table(nodeRows, 'nodes')));
  if (h.replication !== null && h.replication.length > 0) {
    const rows = [
      ['standby', 'client', 'state', 'sync', 'sent', 'replay', 'lag', 'lag time'],
      ...h.replication.map((e) => [
        e.applicationName || '-',
        e.clientAddr ?? '-',
        e.state || '-',
        e.syncState ?? '-',
        e.sent ?? '-',
        e.replay ?? '-',
        ...lagCells(e),
      ]),
    ];
    const title = `*Replication* (from ${esc(h.primary ?? '?')}; lag: the primary's position minus the replay, ${UNKNOWN} = unknown)`;
    blocks.push(...tableBlocks(title, table(rows, 'standbys')));
  }
  if (h.slots !== null && h.slots.length > 0) {
    const rows = [
      ['slot', 'type', 'active', 'restart', 'holds'],
      ...h.slots.map((s) => [
        s.name,
        s.type ?? '-',
        s.active ? 'yes' : 'no',
        s.restartLsn ?? '-',
        s.retainedBytes === null ? '-' : bytesText(s.retainedBytes),
      ]),
    ];
    blocks.push(...tableBlocks('*Replication slots*', table(rows, 'slots')));
  }
  for (const p of h.pools) {
    if (p.poolNodes === null || p.poolNodes.length === 0) continue;
    const delay = p.poolNodes.some((n) => n.replicationDelay !== undefined);
    const rows = [
      ['node', 'host', 'port', 'status', 'role', 'lb_weight', ...(delay ? ['delay'] : [])],
      ...p.poolNodes.map((n) => [
        String(n.nodeId),
        n.hostname,
        String(n.port),
        n.status,
        `${n.role}${n.roleStale ? ' (stale)' : ''}`,
        n.lbWeight.toFixed(6),
        ...(delay ? [n.replicationDelay === undefined ? '-' : String(n.replicationDelay)] : []),
      ]),
    ];
    const title = `*Pool nodes* (${esc(p.node)}'s cluster manager on ${esc(p.host)}:${p.sqlPort})`;
    blocks.push(...tableBlocks(title, table(rows, 'pool nodes')));
  }
  const said = problems(h);
  if (said.length > 0)
    blocks.push(
      ...chunkLines(
        said.map((p) => `${MARK.warn} ${freeText(p)}`),
        SLACK_LIMITS.sectionText,
      ).map(section),
    );
  blocks.push(context(`${esc(h.dialect)} · as of ${slackDate(h.readAt)}`));
  return fitMessage({ text: fallback(h), blocks }, { more: (n) => `… ${n} more parts left out` });
}
