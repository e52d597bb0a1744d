import type { FakeSlack } from './fake-slack';

/**
 * Polls `f` until it gives something truthy; on time-out the error lists what Slack saw (every
 * call and ephemeral), which is what one needs to see why a conversation stalled.
 */
export async function waitForSlack<T>(
  slack: FakeSlack,
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 120_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) {
      const calls = slack.calls.map(
        (c) => `${c.method} ${c.status} ${JSON.stringify(c.response).slice(0, 160)}`,
      );
      const eph = slack.ephemerals.map((e) => `${e.user}: ${e.text.slice(0, 200)}`);
      throw new Error(
        `timed out waiting for ${what}; Slack saw:\n${calls.join('\n')}\nephemerals:\n${eph.join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
