import { ClusterConnector } from '../../../src/adapters/cluster-connector';
import { handleRunAction, RUN_ACTIONS } from '../../../src/chatops/run-actions';
import { testPlan } from '../../integration/support/test-plan';
import { CHANNEL, chatopsHarness, closeSharedStore, labCluster, type Harness } from './chatops-harness';

// Issue 8, point 6: every read and every button honours the cluster's access (channels, who is
// listed), and a front end that cannot tell people apart (the console) cannot approve, retry,
// resume, roll back or unlock where unattended runs are not allowed. Point 3: unlock leaves a run
// that is executing alone, unless asked to cancel it first.

let h: Harness;
const connects = jest.spyOn(ClusterConnector.prototype, 'sql');
const shells = jest.spyOn(ClusterConnector.prototype, 'shell');
afterAll(closeSharedStore);
afterEach(async () => {
  await h?.close();
  expect(connects).not.toHaveBeenCalled();
  expect(shells).not.toHaveBeenCalled();
});

const lastEphemeral = () => {
  const m = h.surface.said.filter((s) => s.kind === 'ephemeral').at(-1);
  return m && { user: m.user, channel: m.channel, text: m.text };
};

describe('read commands honour access', () => {
  beforeEach(async () => {
    h = await chatopsHarness([
      await labCluster(),
      await labCluster({
        name: 'other',
        access: {
          ...(await labCluster()).access,
          requesters: { users: ['UDAVE'], groups: [] },
          approvers: { users: ['UDAVE'], groups: [] },
          admins: { users: [], groups: [] },
          channels: [],
        },
      }),
    ]);
  });

  it.each([
    ['status lab', 'the status', 'status'],
    ['runs lab', 'the runs', 'runs'],
  ])('%s: refused for someone not listed, ephemeral and audited', async (text, what, command) => {
    await h.send(text, 'UMALLORY');
    expect(lastEphemeral()).toEqual({
      user: 'UMALLORY',
      channel: CHANNEL,
      text: `:no_entry_sign: You may not see ${what} of lab here: you are not among the requesters, approvers or admins of lab.`,
    });
    expect(h.surface.said.filter((s) => s.kind !== 'ephemeral')).toEqual([]);
    expect((await h.audits()).at(-1)).toMatchObject({ action: `${command}-refused`, actor: 'UMALLORY' });
  });

  it('a listed person outside the cluster’s channels is refused too', async () => {
    await h.send('runs lab', 'UALICE', 'CRANDOM');
    expect(lastEphemeral()?.text).toBe(
      ':no_entry_sign: You may not see the runs of lab here: lab may be operated only in its own channels.',
    );
    await h.send('status lab', 'UALICE', 'CRANDOM');
    expect(lastEphemeral()?.text).toContain('lab may be operated only in its own channels');
  });

  it('show: a run of a cluster one may not read is refused; one may read is shown', async () => {
    const run = await h.submitted();
    await h.send(`show ${run.id}`, 'UDAVE');
    expect(lastEphemeral()?.text).toContain('You may not see the runs of lab here');
    expect((await h.audits()).at(-1)).toMatchObject({ action: 'show-refused', actor: 'UDAVE' });
    await h.send(`show ${run.id}`, 'UBOB');
    // The run's root message again, to UBOB only: its subject, state and id.
    const shown = h.surface.said.filter((s) => s.kind === 'ephemeral').at(-1)!;
    expect([shown.user, shown.text]).toEqual([
      'UBOB',
      'add-standby on lab, requested by <@UALICE>: awaiting approval (0 of 1 approved)',
    ]);
    expect(JSON.stringify(shown)).toContain(`run \`${run.id}\``);
  });

  it('runs without a cluster lists only the clusters one may read here', async () => {
    const mine = await h.submitted('lab');
    const theirs = await h.submitted('other', testPlan('other', 'UDAVE'));
    await h.send('runs', 'UALICE');
    const shown = JSON.stringify(h.surface.last());
    expect(shown).toContain(mine.id);
    expect(shown).not.toContain(theirs.id);
    await h.send('runs', 'UMALLORY');
    expect(lastEphemeral()?.text).toBe(':no_entry_sign: You may not see the runs of any cluster here.');
    await h.send('status', 'UMALLORY');
    expect(lastEphemeral()?.text).toBe(':no_entry_sign: You may not see the status of any cluster here.');
  });
});

describe('buttons honour access', () => {
  beforeEach(async () => {
    h = await chatopsHarness([await labCluster()]);
  });

  it.each(RUN_ACTIONS)('%s from another channel is refused, audited, and changes nothing', async (action) => {
    const run = await h.submitted();
    await handleRunAction(action, run.id, h.ctx('UCAROL', 'CELSEWHERE'), run.plan.hash);
    expect(lastEphemeral()?.text).toBe(
      `:no_entry_sign: lab may be operated only in its own channels: ${action.slice(4)} it there.`,
    );
    expect(await h.store.getRun(run.id)).toMatchObject({ state: 'awaiting_approval' });
    expect(await h.store.approvals(run.id)).toEqual([]);
    expect((await h.audits()).at(-1)).toMatchObject({ action: `${action}-refused`, actor: 'UCAROL' });
  });

  it('cancel by someone who is neither requester, approver nor admin is refused', async () => {
    const run = await h.submitted();
    await handleRunAction('run.cancel', run.id, h.ctx('UMALLORY'));
    expect(lastEphemeral()?.text).toBe(':no_entry_sign: You may not cancel runs on lab.');
    expect((await h.store.getRun(run.id))?.state).toBe('awaiting_approval');
  });
});

describe('a front end that cannot tell people apart (the console)', () => {
  it('cannot approve, retry, resume or roll back where unattended runs are off; can reject and cancel', async () => {
    h = await chatopsHarness([await labCluster()], { unverifiedUsers: true });
    const run = await h.submitted();
    for (const action of ['run.approve', 'run.retry', 'run.resume', 'run.rollback'] as const) {
      await handleRunAction(action, run.id, h.ctx('UCAROL'), run.plan.hash);
      expect(lastEphemeral()?.text).toBe(
        `:no_entry_sign: The console cannot ${action.slice(4)} runs on lab: it cannot tell who is typing, and lab does not allow unattended runs (allowUnattendedCli). Do it in Slack.`,
      );
    }
    expect(await h.store.approvals(run.id)).toEqual([]);
    expect((await h.store.getRun(run.id))?.state).toBe('awaiting_approval');
    await handleRunAction('run.reject', run.id, h.ctx('UCAROL'), run.plan.hash);
    expect((await h.store.getRun(run.id))?.state).toBe('rejected');
    const again = await h.submitted();
    await handleRunAction('run.cancel', again.id, h.ctx('UALICE'));
    expect((await h.store.getRun(again.id))?.state).toBe('cancelled');
  });

  it('approves where the inventory allows unattended runs (the lab)', async () => {
    h = await chatopsHarness([await labCluster({ allowUnattendedCli: true })], { unverifiedUsers: true });
    const run = await h.submitted();
    await handleRunAction('run.approve', run.id, h.ctx('UCAROL'), run.plan.hash);
    expect((await h.store.getRun(run.id))?.state).toBe('approved');
  });

  it('cannot unlock where unattended runs are off', async () => {
    h = await chatopsHarness([await labCluster()], { unverifiedUsers: true });
    await h.submitted();
    await h.send('unlock lab stuck', 'UCAROL');
    expect(lastEphemeral()?.text).toContain('The console cannot force a lock open on lab');
    expect(await h.store.getLock('lab')).toBeDefined();
  });
});

describe('/kingbase unlock', () => {
  beforeEach(async () => {
    h = await chatopsHarness([await labCluster()]);
  });

  const executing = async (owner = 'bot-1') => {
    const run = await h.submitted();
    await h.store.applyEvent(run.id, 'approve', { actor: 'UCAROL' });
    const claimed = await h.store.claimNext(owner, 60_000);
    expect(claimed?.id).toBe(run.id);
    await h.store.updateRun(run.id, owner, { nextStep: 2 }); // it has changed the cluster
    return run;
  };

  it('refuses while the run executes with a live lease: names run, state and owner, says to cancel first', async () => {
    const run = await executing();
    await h.send('unlock lab it looks stuck', 'UCAROL');
    const text = lastEphemeral()?.text ?? '';
    expect(text).toContain(`held by run ${run.id}, which is running on bot-1`);
    expect(text).toContain(`/kingbase cancel ${run.id}`);
    expect((await h.store.getLock('lab'))?.runId).toBe(run.id);
    expect((await h.audits()).map((a) => a.action)).toContain('unlock-refused');
  });

  it('--cancel asks the run to stop, waits for its worker, then opens the lock', async () => {
    const run = await executing();
    const worker = (async () => {
      while (!(await h.store.getRun(run.id))?.cancelRequested) await new Promise((r) => setTimeout(r, 10));
      await h.store.applyEvent(run.id, 'cancel', { actor: 'bot-1', owner: 'bot-1' });
    })();
    await h.send('unlock lab --cancel the node is being rebuilt', 'UCAROL');
    await worker;
    expect(lastEphemeral()?.text).toBe(`Unlocked lab (it was held by run \`${run.id}\`).`);
    expect(await h.store.getLock('lab')).toBeUndefined();
    expect((await h.store.getRun(run.id))?.state).toBe('cancelled');
    const forced = (await h.store.events({ runId: run.id })).filter(
      (e) => e.event.type === 'lock' && e.event.action === 'force-released',
    );
    expect(forced.map((e) => [e.actor, (e.event as { reason?: string }).reason])).toEqual([
      ['UCAROL', 'the node is being rebuilt'],
    ]);
  });

  it('opens a lock whose run is not executing; refuses a non-admin', async () => {
    const run = await h.submitted();
    await h.send('unlock lab', 'UBOB');
    expect(lastEphemeral()?.text).toBe(':no_entry_sign: only an admin of lab can force its lock open');
    await h.send('unlock lab abandoned plan', 'UCAROL');
    expect(lastEphemeral()?.text).toBe(`Unlocked lab (it was held by run \`${run.id}\`).`);
  });
});
