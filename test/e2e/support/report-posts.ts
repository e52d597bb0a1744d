import type { FakeFile, FakeMessage, FakeSlack } from './fake-slack';

// Health reports as a channel reader sees them, read back from the fake Slack without goldens: each
// root's slot minute, verdict and cluster lines, and what its thread holds (replies and files). The
// report's content is pinned by the renderer's goldens; these tests count and compare.

export type Level = 'green' | 'amber' | 'red';

const MARKS: Readonly<Record<string, Level>> = {
  ':large_green_circle:': 'green',
  ':large_yellow_circle:': 'amber',
  ':red_circle:': 'red',
};

export interface ReportPost {
  readonly ts: string;
  /** The schedule's name, or null for an on-demand report. */
  readonly schedule: string | null;
  /** The minute the report is for, as the message says it: `2026-12-02 08:00` (in `zone`). */
  readonly minute: string;
  readonly zone: string;
  readonly level: Level;
  /** The head's counts, e.g. `1 green` or `1 amber, 2 green`. */
  readonly counts: string;
  /** One line per cluster: `{ level, cluster, text }` (text: what follows the cluster's name). */
  readonly clusters: readonly { readonly level: Level; readonly cluster: string; readonly text: string }[];
  /** Context lines (late by…, skipped…). */
  readonly notes: readonly string[];
  readonly replies: readonly FakeMessage[];
  /** Files shared in the report's thread. */
  readonly files: readonly FakeFile[];
  readonly postedAt: number;
}

interface Block {
  readonly type?: string;
  readonly text?: { readonly text?: string };
  readonly elements?: readonly { readonly text?: string }[];
}

const HEAD =
  /^(?:<!subteam\^\w+> )?(:[a-z_]+:) \*Replication health(?: \(([^)]+)\))?\* · (\d{4}-\d{2}-\d{2} \d{2}:\d{2}) (\S+) · (.+)$/;
const LINE = /^(:[a-z_]+:) \*([^*]+)\* (.*)$/;

/** The report a root message is, or undefined when it is something else. */
export function reportPost(slack: FakeSlack, m: FakeMessage): ReportPost | undefined {
  const blocks = (m.blocks ?? []) as Block[];
  const head = HEAD.exec(blocks[0]?.text?.text ?? '');
  const level = head ? MARKS[head[1]!] : undefined;
  if (!head || !level) return undefined;
  const notes = blocks
    .filter((b) => b.type === 'context')
    .flatMap((b) => (b.elements ?? []).map((e) => e.text ?? ''));
  const clusters = blocks
    .slice(1)
    .filter((b) => b.type === 'section')
    .flatMap((b) => (b.text?.text ?? '').split('\n'))
    .flatMap((l) => {
      const x = LINE.exec(l);
      const lv = x ? MARKS[x[1]!] : undefined;
      return x && lv ? [{ level: lv, cluster: x[2]!, text: x[3]! }] : [];
    });
  return {
    ts: m.ts,
    schedule: head[2] ?? null,
    minute: head[3]!,
    zone: head[4]!,
    level,
    counts: head[5]!,
    clusters,
    notes,
    replies: slack.replies(m.channel, m.ts),
    files: slack.files.filter((f) => f.channel === m.channel && f.thread_ts === m.ts && f.completed),
    postedAt: m.postedAt,
  };
}

/** Every root of `channel`: the reports, and whatever else was posted there. */
export function reportPosts(
  slack: FakeSlack,
  channel: string,
): { reports: ReportPost[]; others: FakeMessage[] } {
  const reports: ReportPost[] = [];
  const others: FakeMessage[] = [];
  for (const m of slack.roots(channel)) {
    const r = reportPost(slack, m);
    if (r) reports.push(r);
    else others.push(m);
  }
  return { reports, others };
}

/** The channel as short text for a failure message or a log: one line per report and reply. */
export function reportSummary(slack: FakeSlack, channel: string): string {
  const { reports, others } = reportPosts(slack, channel);
  const out = reports.flatMap((r) => [
    `${r.minute} ${r.zone} ${r.schedule ?? 'on demand'} ${r.level} (${r.counts}) at +${r.postedAt} ms: ${r.clusters
      .map((c) => `${c.cluster} ${c.level}`)
      .join(', ')}`,
    ...r.replies.map((x) => `  > ${x.text.slice(0, 160)}`),
    ...r.files.map((f) => `  > file ${f.filename} (${f.content?.length ?? 0} bytes)`),
  ]);
  return [...out, ...others.map((m) => `other root: ${m.text.slice(0, 200)}`)].join('\n');
}
