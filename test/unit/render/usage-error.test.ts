import { usageError } from '../../../src/render/usage-error';
import { expectGolden, expectWithinLimits, shownText } from './render-fixture';

describe('usageError', () => {
  it('says what was wrong and the right form, only to the one who typed it (golden)', () => {
    const m = usageError({
      problem: 'host: "192.168.4.1599" is not an IP address or host name',
      usage: 'add-node <cluster> <host> [name=<node>]',
    });
    expectGolden('usage-error', m);
    expectWithinLimits(m);
    expect(m.response_type).toBe('ephemeral');
    expect(m.text).toMatch(/^:warning: host: /);
  });

  it('escapes input the caller did not escape', () => {
    const m = usageError({ problem: 'unknown command <!channel> & <@U123>', usage: 'help' });
    expect(shownText(m)).not.toMatch(/<[!@]/);
    expect(shownText(m)).toContain(':warning: unknown command &lt;!channel&gt; &amp; &lt;@U123&gt;');
  });

  it('does not escape twice what the caller already showed through shownInput or esc', () => {
    // What clusterArg passes for `/kingbase runs <!channel>` in a workspace with a cluster "R&D".
    const problem = 'cluster: there is no cluster `&lt;!channel&gt;` (known: R&amp;D)';
    const m = usageError({ problem, usage: 'runs [cluster]' });
    expect(m.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: `:warning: ${problem}` } });
    expect(shownText(m)).not.toContain('&amp;lt;');
    expect(shownText(m)).not.toContain('&amp;amp;');
    // Typed as an entity: shown as typed, which Slack renders as text, never as a mention.
    expect(usageError({ problem: 'host: &lt;!here&gt;' }).blocks[0]).toEqual({
      type: 'section',
      text: { type: 'mrkdwn', text: ':warning: host: &lt;!here&gt;' },
    });
  });

  it('masks secrets in the problem', () => {
    const m = usageError({ problem: 'name: password=hunter2hunter2 is not a node name', usage: 'help' });
    expect(shownText(m)).not.toContain('hunter2hunter2');
  });

  it('without a usage, names the sub-commands it is given (an unknown one was typed)', () => {
    const m = usageError({
      problem: 'unknown sub-command `ad-node`',
      commands: [
        { name: 'add-node', args: '<cluster> <host>', summary: 'grow a cluster' },
        { name: 'status', args: '[cluster]', summary: 'replication' },
      ],
    });
    expect(shownText(m)).toContain('*Commands:* `add-node`, `status`');
    expect(shownText(m)).toContain('`/kingbase help` lists every command with its usage.');
    expect(m.text).toBe(':warning: unknown sub-command `ad-node`');
  });

  it('with neither, says the problem and where help is', () => {
    const m = usageError({ problem: 'nothing to do', command: '/kb' });
    expect(m.blocks).toHaveLength(2);
    expect(shownText(m)).toContain('`/kb help` lists every command with its usage.');
  });
});
