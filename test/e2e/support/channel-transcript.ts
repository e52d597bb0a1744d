import type { FakeSlack } from './fake-slack';

/** One channel's part of the fake's transcript, with everything that varies between runs masked. */
export function channelTranscript(slack: FakeSlack, channel: string, labName: string): string {
  const all = slack.transcript({ updates: 'last' });
  const section = all.split(/^(?=# )/m).find((s) => s.startsWith(`# ${channel}\n`)) ?? '';
  const ts = new Map<string, string>();
  const body = collapseFullPlan(section);
  const lab = new RegExp(`kbops-lab-${labName}-\\d+`, 'g');
  return (
    body
      .replace(/<ts\d+>/g, (t) => ts.get(t) ?? (ts.set(t, `<ts${ts.size + 1}>`), ts.get(t)!))
      .replace(/\bR[A-Z2-9]{8}\b/g, '<run>')
      .replace(/\b[0-9a-f]{12,64}\b/g, '<hash>')
      .replace(/\b[0-9A-F]{1,8}\/[0-9A-F]{5,8}\b/g, '<lsn>')
      .replace(/\b\d+(?:\.\d+)?\s?(?:[kKMGT]i?B|bytes?)\b/g, '<size>')
      .replace(/\bF[A-Z0-9]{6,}\b/g, '<file>')
      .replace(lab, `kbops-lab-${labName}-<pid>`)
      // A command cut to the context line's length is cut at a place that moves with the pid's digits.
      .replace(/(`run: [^`]*?)\S*…`/g, '$1…`')
      .replace(/updated \d+ time\(s\)/g, 'updated <n> time(s)')
      .replace(/\d+(?:\.\d+)?%/g, '<pct>')
  );
}

/**
 * The full plan's replies as one line: how Slack's limits split it moves with the length of the
 * lab's paths (the pid's digits); its content is pinned by the renderer's goldens instead
 * (test/golden/slack/plan-detail-writeup.json).
 */
function collapseFullPlan(section: string): string {
  const out: string[] = [];
  let skipping: string | null = null;
  let shown = false;
  for (const line of section.split('\n')) {
    const m = /^(\s*)> <ts\d+> (@\S+): Full plan /.exec(line);
    if (m) {
      skipping = `${m[1]}>   `;
      if (!shown) out.push(`${m[1]}> ${m[2]}: [the full plan, in as many replies as Slack's limits need]`);
      shown = true;
      continue;
    }
    if (skipping !== null && line.startsWith(skipping)) continue;
    skipping = null;
    out.push(line);
  }
  return out.join('\n');
}
