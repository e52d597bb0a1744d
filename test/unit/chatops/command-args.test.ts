import type { ChatMessage } from '../../../src/chatops/chat-surface';
import type { CommandContext } from '../../../src/chatops/chatops';
import { clusterArg, runIdArg, usageProblem } from '../../../src/chatops/command-args';

// usageProblem renders through the golden-tested usageError: the problem (already quoting input
// through shownInput) escaped once, the right form, to the typist only.

function context(clusters: readonly string[]) {
  const said: Array<{ channel: string; user: string; message: ChatMessage }> = [];
  const ctx = {
    deps: { inventory: { clusters: Object.fromEntries(clusters.map((name) => [name, { name }])) } },
    actor: { user: 'UALICE', channel: 'CLAB' },
    surface: {
      ephemeral: async (channel: string, user: string, message: ChatMessage) => {
        said.push({ channel, user, message });
      },
    },
  } as unknown as CommandContext;
  return { ctx, said };
}

describe('usageProblem', () => {
  it('tells the typist alone what was wrong and the form, through usageError', async () => {
    const { ctx, said } = context(['ESHA']);
    await usageProblem(ctx, 'rollback takes one run id', 'rollback <run>');
    expect(said).toEqual([
      {
        channel: 'CLAB',
        user: 'UALICE',
        message: {
          response_type: 'ephemeral',
          text: ':warning: rollback takes one run id — usage: /kingbase rollback &lt;run&gt;',
          blocks: [
            { type: 'section', text: { type: 'mrkdwn', text: ':warning: rollback takes one run id' } },
            { type: 'section', text: { type: 'mrkdwn', text: '*Usage:* `/kingbase rollback &lt;run&gt;`' } },
            {
              type: 'context',
              elements: [{ type: 'mrkdwn', text: '`/kingbase help` lists every command with its usage.' }],
            },
          ],
        },
      },
    ]);
  });

  it('shows hostile input from clusterArg and runIdArg escaped exactly once', async () => {
    const { ctx, said } = context(['R&D']);
    const c = clusterArg(ctx, '<!channel>');
    const r = runIdArg('<@U123>&x');
    if (c.ok || r.ok) throw new Error('hostile input accepted');
    await usageProblem(ctx, c.problem, 'runs [cluster]');
    await usageProblem(ctx, r.problem, 'show <run>');
    const wire = JSON.stringify(said);
    expect(wire).not.toMatch(/<[!@#]/);
    expect(wire).not.toContain('&amp;lt;');
    expect(wire).toContain('cluster: `&lt;!channel&gt;` is not a cluster name');
    expect(wire).toContain('run: `&lt;@U123&gt;&amp;x` is not a run id');
  });

  it('names the known clusters, escaped once', async () => {
    const { ctx, said } = context(['R&D']);
    const c = clusterArg(ctx, 'ESH');
    if (c.ok) throw new Error('unknown cluster accepted');
    await usageProblem(ctx, c.problem, 'status [cluster]');
    expect(said[0]!.message.text).toBe(
      ':warning: cluster: there is no cluster `ESH` (known: R&amp;D) — usage: /kingbase status [cluster]',
    );
  });
});
