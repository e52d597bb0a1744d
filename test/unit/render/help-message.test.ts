import { helpMessage, type CommandHelp } from '../../../src/render/help-message';
import { expectGolden, expectWithinLimits, shownText } from './render-fixture';

// The sub-commands are the caller's (the live command list and the runbook registry); this is the
// list kbops showed when the builder still held its own copy, so the golden shows the same help.
const COMMANDS: readonly CommandHelp[] = [
  {
    name: 'add-node',
    args: '<cluster> <host> [name=<node>]',
    summary:
      'plan adding a streaming standby: preflight, then the exact commands, SQL and file edits with their undo, for approval in the thread',
  },
  { name: 'status', args: '<cluster>', summary: "the cluster's pool nodes and replication, with lag" },
  { name: 'runs', args: '[<cluster>]', summary: 'the latest runs and their states' },
  { name: 'show', args: '<run>', summary: "a run's plan, state and buttons, posted again" },
  { name: 'cancel', args: '<run>', summary: 'withdraw a plan, or stop a run at its current step' },
  {
    name: 'rollback',
    args: '<run>',
    summary: "undo a failed, cancelled or interrupted run's changes, newest first",
  },
  {
    name: 'unlock',
    args: '<cluster> [--cancel] <reason…>',
    summary:
      "admins: release a cluster's lock held by a run that cannot finish (audited); refused while a run executes, unless --cancel stops it first",
  },
  { name: 'help', args: '', summary: 'this list' },
];

describe('helpMessage', () => {
  it('lists every sub-command given with its usage and summary (golden)', () => {
    const m = helpMessage(COMMANDS);
    expectGolden('help', m);
    expectWithinLimits(m);
    for (const c of COMMANDS) expect(shownText(m)).toContain(`/kingbase ${c.name}`);
    expect(m.text).toBe('/kingbase: add-node, status, runs, show, cancel, rollback, unlock, help');
  });

  it('shows exactly the sub-commands it is given: a new runbook appears, a gone one does not', () => {
    const m = helpMessage([
      { name: 'failover-drill', args: '<cluster>', summary: 'rehearse a failover' },
      { name: 'help', args: '', summary: 'this list' },
    ]);
    expect(shownText(m)).toContain('`/kingbase failover-drill &lt;cluster&gt;`\\n      rehearse a failover');
    expect(shownText(m)).toContain('`/kingbase help`\\n      this list');
    expect(shownText(m)).not.toContain('add-node');
    expect(m.text).toBe('/kingbase: failover-drill, help');
  });

  it('escapes forms and summaries, and shows another slash command', () => {
    const m = helpMessage([{ name: 'x', args: '<a&b>', summary: 'pings <!channel>' }], '/kb');
    expect(shownText(m)).not.toMatch(/<[!a]/);
    expect(shownText(m)).toContain('`/kb x &lt;a&amp;b&gt;`\\n      pings &lt;!channel&gt;');
    expect(m.text).toBe('/kb: x');
  });
});
