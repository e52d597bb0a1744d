import { ClusterConnector } from '../../../src/adapters/cluster-connector';
import type { CommandContext } from '../../../src/chatops/chatops';
import {
  finishedRun,
  followUpMessageFor,
  followUpOffers,
  handleFollowUp,
} from '../../../src/chatops/follow-ups';
import type { Run } from '../../../src/core/run';
import { followUpValue } from '../../../src/render/follow-up-message';
import { RUNBOOKS } from '../../../src/runbooks';
import type { AnyRunbook, FinishedRun } from '../../../src/runbooks/runbook';
import { leaveNoteRunbook } from '../../fixtures/leave-note/leave-note-runbook';
import { testPlan } from '../../integration/support/test-plan';
import { CHANNEL, chatopsHarness, closeSharedStore, labCluster, type Harness } from './chatops-harness';

// Follow-up offers: every runbook is asked about every finished run; pressing an offer is a request
// by the presser, checked exactly as typing `/kingbase <runbook> …` (requesters, channel, schema).

const leaveNote = leaveNoteRunbook as unknown as AnyRunbook;
const REGISTRY = [...RUNBOOKS, leaveNote];
const DONE: FinishedRun = {
  runbook: 'add-standby',
  cluster: 'lab',
  params: { node: 'srv129' },
  state: 'succeeded',
  stepsDone: ['check', 'slot', 'verify'],
};

describe('followUpOffers', () => {
  it('asks every runbook about the finished run, and keeps each offer with its typed form', () => {
    const asked = jest.fn(() => []);
    const quiet: AnyRunbook = { ...leaveNote, id: 'quiet', followUps: asked };
    const offers = followUpOffers([quiet, leaveNote], DONE, (err) => {
      throw err;
    });
    expect(asked).toHaveBeenCalledWith(DONE);
    expect(offers).toEqual([
      {
        runbook: 'leave-note',
        label: 'Leave a note about it',
        values: { cluster: 'lab', node: 'srv129', note: 'after add-standby' },
        command: '/kingbase leave-note lab srv129 note=after add-standby',
      },
    ]);
    expect(followUpOffers([leaveNote], { ...DONE, state: 'failed' }, () => undefined)).toEqual([]);
  });

  it('leaves out, and reports, a runbook that throws and offers its own input refuses', () => {
    const errors: string[] = [];
    const broken: AnyRunbook[] = [
      {
        ...leaveNote,
        id: 'thrower',
        followUps: () => {
          throw new Error('boom');
        },
      },
      {
        ...leaveNote,
        id: 'bad-node',
        followUps: () => [{ label: 'x', values: { cluster: 'lab', node: 'A B' } }],
      },
      {
        ...leaveNote,
        id: 'cli-only',
        followUps: () => [{ label: 'x', values: { cluster: 'lab', node: 'n', host: 'h' } }],
      },
      { ...leaveNote, id: 'no-node', followUps: () => [{ label: 'x', values: { cluster: 'lab' } }] },
    ];
    expect(followUpOffers(broken, DONE, (e) => errors.push((e as Error).message))).toEqual([]);
    expect(errors).toEqual([
      'boom',
      'runbook bad-node offered a follow-up its own input refuses',
      'runbook cli-only offered a follow-up its own input refuses',
      'runbook no-node offered a follow-up its own input refuses',
    ]);
  });

  it('makes no message when nothing is offered, and tells the runbooks which steps completed', () => {
    const run = { id: 'R1', cluster: 'lab', plan: testPlan('lab'), nextStep: 2, meta: {} } as unknown as Run;
    expect(finishedRun(run, 'failed')).toMatchObject({
      runbook: 'add-standby',
      stepsDone: ['check', 'slot'],
    });
    expect(followUpMessageFor(run, 'succeeded', [], () => undefined)).toBeNull();
  });
});

describe('handleFollowUp', () => {
  let h: Harness;
  const connects = jest.spyOn(ClusterConnector.prototype, 'sql');
  afterAll(closeSharedStore);
  beforeEach(async () => {
    h = await chatopsHarness([await labCluster()]);
  });
  afterEach(() => expect(connects).not.toHaveBeenCalled());

  const connector = {
    sql: async () => ({ query: async () => ({ rows: [{ ok: 1 }] }) }),
    close: async () => undefined,
  };
  const ctx = (user: string, channel = CHANNEL): CommandContext => ({
    ...h.ctx(user, channel),
    deps: { ...h.deps, runbooks: REGISTRY, connectorFor: () => connector as never },
  });
  const press = (
    user: string,
    values: Record<string, string | number>,
    channel?: string,
    runbook = 'leave-note',
  ) => handleFollowUp(followUpValue('RPREVIOUS', { runbook, values }), ctx(user, channel));
  const ephemeral = () => h.surface.said.filter((s) => s.kind === 'ephemeral').at(-1)?.text;
  const posted = () => h.surface.said.filter((s) => s.kind !== 'ephemeral');
  const GOOD = { cluster: 'lab', node: 'srv129', note: 'after add-node' };

  it('plans for an allowed presser, as the typed command would: root, votes needed, full plan', async () => {
    await press('UBOB', GOOD);
    const said = posted();
    expect(said[0]?.text).toBe(
      ':hourglass: <@UBOB> asked to leave a note on srv129 of lab: preflight running…',
    );
    const root = said.find((s) => s.kind === 'update')!;
    expect(JSON.stringify(root.blocks)).toContain('run.approve');
    expect(JSON.stringify(root.blocks)).toContain('_needs 1 approval (the requester cannot approve)_');
    expect(said.some((s) => s.kind === 'post' && s.text.includes('Full plan'))).toBe(true);
    const [run] = await h.store.listRuns({});
    expect(run).toMatchObject({
      requester: 'UBOB',
      state: 'awaiting_approval',
      plan: { params: { node: 'srv129' } },
    });
    expect((await h.audits()).map((a) => a.action)).toEqual(['follow-up', 'leave-note']);
  });

  it('refuses a presser who may not request changes, or who presses outside the cluster’s channels', async () => {
    await press('UCAROL', GOOD);
    expect(ephemeral()).toBe(':no_entry_sign: You may not request changes to lab in this channel.');
    await press('UALICE', GOOD, 'CRANDOM');
    expect(ephemeral()).toBe(':no_entry_sign: You may not request changes to lab in this channel.');
    expect(posted()).toEqual([]);
    expect((await h.audits()).map((a) => a.action)).toEqual([
      'follow-up',
      'leave-note-refused',
      'follow-up',
      'leave-note-refused',
    ]);
  });

  it.each([
    [{ ...GOOD, node: '$(reboot)' }, 'node: Invalid string'],
    [{ ...GOOD, node: 'srv999' }, 'node: lab has no data node'],
    [{ ...GOOD, host: '127.0.0.1' }, '`host=`: unknown option (leave-note takes note=&lt;text&gt;)'],
    [{ ...GOOD, cluster: 'nope' }, 'cluster: there is no cluster `nope`'],
    [{ cluster: 'lab', note: 'x' }, 'node: missing'],
  ])('refuses a forged value like typed input: %j', async (values, says) => {
    await press('UALICE', values);
    expect(ephemeral()).toContain(says);
    expect(posted()).toEqual([]);
    expect(await h.store.listRuns({})).toEqual([]);
  });

  it('refuses a value it cannot read, or naming a runbook that is not registered', async () => {
    await handleFollowUp('{"runbook":', ctx('UALICE'));
    expect(ephemeral()).toMatch(/^:no_entry_sign: This button offers nothing kbops can plan/);
    await press('UALICE', GOOD, CHANNEL, 'drop-database');
    expect(ephemeral()).toMatch(/^:no_entry_sign: This button offers nothing kbops can plan/);
    expect((await h.audits()).map((a) => [a.action, (a.data as { reason: string }).reason])).toEqual([
      ['follow-up-refused', 'unreadable-value'],
      ['follow-up-refused', 'unknown-runbook'],
    ]);
    expect(posted()).toEqual([]);
  });
});
