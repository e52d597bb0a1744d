import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { formatProblems, loadInventory } from '../../../src/config/load-inventory';
import type { Inventory } from '../../../src/config/normalise-inventory';
import { channelTranscript } from './channel-transcript';
import type { FakeMessage, FakeSlack } from './fake-slack';
import { blockActionsBody } from './sign-slack-request';

// Helpers for the failover drill over Slack (slack-failover-drill.test.ts): an inventory file of
// its own with the access rules the acceptance names, button clicks as Slack sends them (the
// clicked block's id, one action_ts per click), and one golden transcript per thread.

export interface Access {
  readonly requesters: readonly string[];
  readonly approvers: readonly string[];
  readonly admins: readonly string[];
}

/**
 * The lab's own kbops.yaml with `access` replaced, written next to the test's state (mode 0600) and
 * loaded like any operator's inventory: a typo in the rules fails here, not mid-conversation.
 */
export async function writeInventory(labInventory: string, dir: string, access: Access): Promise<Inventory> {
  const doc = parseDocument(readFileSync(labInventory, 'utf8'));
  doc.setIn(['clusters', 'lab', 'access'], {
    requesters: { users: [...access.requesters] },
    approvers: { users: [...access.approvers] },
    admins: { users: [...access.admins] },
    approvals: 1,
    approvalTtlMinutes: 60,
    autoRollback: true,
  });
  const path = join(dir, 'kbops.yaml');
  writeFileSync(path, String(doc), { mode: 0o600 });
  chmodSync(path, 0o600);
  const loaded = await loadInventory(path, { env: process.env });
  if (!loaded.ok) throw new Error(`test inventory invalid:\n${formatProblems(loaded.problems)}`);
  return loaded.inventory;
}

export interface ShownButton {
  readonly block_id: string;
  readonly action_id: string;
  readonly value: string;
  readonly text: string;
}

type Block = { type: string; block_id?: string; elements?: Array<Record<string, unknown>> };

/** Every button a message shows, with the block it sits in. */
export function buttonsOn(m: Pick<FakeMessage, 'blocks'> | undefined): ShownButton[] {
  return ((m?.blocks ?? []) as Block[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) =>
      (b.elements ?? [])
        .filter((e) => e.type === 'button')
        .map((e) => ({
          block_id: b.block_id ?? '',
          action_id: String(e.action_id),
          value: String(e.value ?? ''),
          text: String((e.text as { text?: string } | undefined)?.text ?? ''),
        })),
    );
}

let clicks = 0;

/**
 * A click on `button` of message `on`, as Slack posts it: the block's real id (run buttons bind
 * the vote to the plan hash in it) and an action_ts of its own, so two clicks by one person are
 * two clicks for Bolt's de-duplication (blockActionsBody's whole-second stamp would merge them).
 */
export function clickBody(user: string, channel: string, on: FakeMessage, button: ShownButton): string {
  const body = blockActionsBody({
    user_id: user,
    action_id: button.action_id,
    value: button.value,
    block_id: button.block_id,
    channel_id: channel,
    message_ts: on.ts,
    ...(on.thread_ts ? { thread_ts: on.thread_ts } : {}),
  });
  const payload = JSON.parse(new URLSearchParams(body).get('payload')!) as {
    actions: Array<{ action_ts: string; text: { text: string } }>;
  };
  const now = Date.now();
  payload.actions[0]!.action_ts = `${Math.floor(now / 1000)}.${String(((now % 1000) * 1000 + ++clicks) % 1e6).padStart(6, '0')}`;
  payload.actions[0]!.text.text = button.text;
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** What varies between runs of the drill beyond channelTranscript's masks. */
export function maskDrill(text: string): string {
  // The drill's table is named from the plan's key (a hash of the request and its time); inside
  // an identifier, so channelTranscript's whole-word <hash> does not catch it.
  return (
    text
      .replace(/\bkbops_drill_[0-9a-f]{12}\b/g, 'kbops_drill_<key>')
      // How long ago the root was last drawn: "<dur> ago", or "just now" when drawn within 1 s.
      .replace(/ · just now\b/g, ' · <dur> ago')
  );
}

/**
 * One channel's threads, each as its own transcript: root, replies, final content of each update,
 * masked exactly as channelTranscript masks a channel (its ts placeholders numbered from 1, its
 * full plan collapsed to one line: channelTranscript shows that line for the first thread only),
 * plus maskDrill.
 */
export function threadTranscripts(slack: FakeSlack, channel: string, labName: string): string[] {
  const all = slack.transcript({ updates: 'last' });
  const section = all.split(/^(?=# )/m).find((s) => s.startsWith(`# ${channel}\n`)) ?? '';
  const threads: string[][] = [];
  for (const line of section.split('\n').slice(1)) {
    if (/^<ts\d+> @/.test(line)) threads.push([line]);
    else if (threads.length > 0 && line !== '') threads.at(-1)!.push(line);
  }
  return threads.map((t) => {
    const one = { transcript: () => `# ${channel}\n${t.join('\n')}\n` } as unknown as FakeSlack;
    return maskDrill(channelTranscript(one, channel, labName));
  });
}

/** Resolves once nothing new reached the fake for `quietMs` (the bot's outbox drained). */
export async function quiet(slack: FakeSlack, quietMs = 2500, maxMs = 60_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let seen = slack.calls.length;
  let since = Date.now();
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    if (slack.calls.length !== seen) {
      seen = slack.calls.length;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
  throw new Error(`Slack never went quiet for ${quietMs} ms within ${maxMs} ms`);
}
