import type { PoolNode } from '../probes/pool-nodes';
import type { ReplicationEntry } from '../probes/replication';
import { chunkLines, fitMessage, SLACK_LIMITS } from './limits';
import { context, header, section, type KnownBlock, type SlackMessage } from './slack-message';
import { esc, freeText, MARK, plural, slackDate } from './slack-text';

// `/kingbase status <cluster>`: the pool's view of its nodes and the primary's view of its standbys,
// as aligned tables, with each standby's lag (WAL sent but not yet replayed).

export interface StatusInput {
  readonly cluster: string;
  /** `show pool_nodes` through the cluster manager; null: the manager did not answer. */
  readonly poolNodes: readonly PoolNode[] | null;
  /** The primary's pg_stat_replication / sys_stat_replication; null: it could not be read. */
  readonly replication: readonly ReplicationEntry[] | null;
  readonly now: Date;
  /** What could not be read, said plainly (shown scrubbed). */
  readonly problems?: readonly string[];
}

const MAX_ROWS = 60;

/** A WAL position `X/Y` as a byte number, or null. */
export function lsnBytes(lsn: string | null): bigint | null {
  const m = lsn === null ? null : /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn.trim());
  return m ? (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`) : null;
}

/** 0 B, 512 B, 12.0 KiB, 3.4 MiB, 1.2 GiB. */
export function bytesText(n: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(n < 0n ? -n : n);
  let u = 0;
  while (value >= 1024 && u < units.length - 1) {
    value /= 1024;
    u += 1;
  }
  return `${n < 0n ? '-' : ''}${u === 0 ? value : value.toFixed(1)} ${units[u]}`;
}

/** Replay lag: what the primary sent that the standby has not replayed yet. */
export function replayLag(r: ReplicationEntry): string {
  const sent = lsnBytes(r.sent);
  const replay = lsnBytes(r.replay);
  return sent === null || replay === null ? '-' : bytesText(sent - replay);
}

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

function poolSummary(nodes: readonly PoolNode[] | null): string {
  if (nodes === null) return `${MARK.fail} the cluster manager did not answer \`show pool_nodes\``;
  const bad = nodes.filter((n) => n.status !== 'up' && n.status !== 'waiting');
  if (bad.length === 0) return `${MARK.pass} ${nodes.length} of ${plural(nodes.length, 'pool node')} up`;
  const list = bad
    .slice(0, 10)
    .map((n) => `node ${n.nodeId} (${esc(n.hostname)}) is ${esc(n.status)}`)
    .join(', ');
  return `${MARK.fail} ${list}${bad.length > 10 ? `, … ${bad.length - 10} more` : ''}`;
}

function replicationSummary(entries: readonly ReplicationEntry[] | null): string {
  if (entries === null) return `${MARK.fail} the primary's replication view could not be read`;
  if (entries.length === 0) return `${MARK.warn} no standby is connected to the primary`;
  const streaming = entries.filter((e) => e.state === 'streaming').length;
  const mark = streaming === entries.length ? MARK.pass : MARK.warn;
  return `${mark} ${streaming} of ${plural(entries.length, 'standby', 'standbys')} streaming`;
}

export function statusMessage(input: StatusInput): SlackMessage {
  const { poolNodes, replication } = input;
  const blocks: KnownBlock[] = [
    header(`Cluster ${input.cluster}`),
    section([poolSummary(poolNodes), replicationSummary(replication)].join('\n')),
  ];
  if (poolNodes !== null && poolNodes.length > 0) {
    const delay = poolNodes.some((n) => n.replicationDelay !== undefined);
    const rows = [
      ['node', 'host', 'port', 'status', 'role', 'lb_weight', ...(delay ? ['delay'] : [])],
      ...poolNodes.map((n) => [
        String(n.nodeId),
        n.hostname,
        String(n.port),
        n.status,
        `${n.role}${n.roleStale ? ' (stale)' : ''}`,
        n.lbWeight.toFixed(6),
        ...(delay ? [n.replicationDelay === undefined ? '-' : String(n.replicationDelay)] : []),
      ]),
    ];
    blocks.push(...tableBlocks('*Pool nodes*', table(rows, 'pool nodes')));
  }
  if (replication !== null && replication.length > 0) {
    const rows = [
      ['standby', 'client', 'state', 'sync', 'sent', 'replay', 'lag'],
      ...replication.map((r) => [
        r.applicationName || '-',
        r.clientAddr ?? '-',
        r.state || '-',
        r.syncState ?? '-',
        r.sent ?? '-',
        r.replay ?? '-',
        replayLag(r),
      ]),
    ];
    blocks.push(...tableBlocks('*Replication* (from the primary)', table(rows, 'standbys')));
  }
  const problems = input.problems ?? [];
  if (problems.length > 0)
    blocks.push(
      ...chunkLines(
        problems.map((p) => `${MARK.warn} ${freeText(p)}`),
        SLACK_LIMITS.sectionText,
      ).map(section),
    );
  blocks.push(context(`as of ${slackDate(input.now.toISOString())}`));
  const up = poolNodes?.filter((n) => n.status === 'up').length;
  const streaming = replication?.filter((e) => e.state === 'streaming').length;
  return fitMessage(
    {
      text: `${esc(input.cluster)}: ${poolNodes === null ? 'pool did not answer' : `${up}/${poolNodes.length} pool nodes up`}, ${
        replication === null
          ? 'replication unknown'
          : `${streaming} of ${replication.length} standbys streaming`
      }`,
      blocks,
    },
    { more: (n) => `… ${n} more parts left out` },
  );
}
