import { ThreadNotifier } from '../../../src/chatops/thread-notifier';
import type { Run, StoredEvent } from '../../../src/core/run';
import type { RunState } from '../../../src/core/run-state';
import type { AnyRunbook } from '../../../src/runbooks/runbook';
import { leaveNoteRunbook } from '../../fixtures/leave-note/leave-note-runbook';
import { testPlan } from '../../integration/support/test-plan';
import { clock, RecordingSurface } from './chatops-harness';

// The thread as the executor's events move the run: the root redrawn with what its approvals need,
// and, once the run ends, one message offering what the registered runbooks propose next.

const run = (state: RunState): Run => ({
  id: 'RTHREAD01',
  cluster: 'lab',
  plan: testPlan('lab', 'UALICE'),
  state,
  requester: 'UALICE',
  createdAt: '2025-01-02T03:04:05.678Z',
  updatedAt: '2025-01-02T03:14:05.678Z',
  expiresAt: null,
  nextStep: state === 'succeeded' ? 3 : 0,
  undoNext: null,
  owner: null,
  leaseUntil: null,
  cancelRequested: false,
  meta: { slack: { channel: 'CLAB', ts: '1.0' }, subject: 'add db3 to lab' },
});

const moved = (from: RunState, to: RunState, id = 1): StoredEvent => ({
  id,
  at: '2025-01-02T03:14:05.678Z',
  runId: 'RTHREAD01',
  cluster: 'lab',
  actor: 'kbops',
  event: { type: 'state', from, to, event: to === 'running' ? 'start' : 'succeed' },
});

async function thread(events: Array<[StoredEvent, Run]>, runbooks: readonly AnyRunbook[]) {
  const surface = new RecordingSurface();
  const errors: unknown[] = [];
  const notifier = new ThreadNotifier(surface, clock, (e) => errors.push(e), {
    policyOf: () => ({ required: 2, allowSelfApproval: false }),
    runbooks,
  });
  for (const [e, r] of events) notifier.notify(e, r);
  await new Promise((resolve) => setTimeout(resolve, 50)); // the queue drains
  return { said: surface.said, errors };
}

it('redraws the root with the approvals its effective policy needs', async () => {
  const { said } = await thread([[moved('approved', 'running'), run('running')]], []);
  expect(said.map((s) => s.kind)).toEqual(['update']);
  expect(JSON.stringify(said[0]?.blocks)).toContain('_needs 2 approvals (the requester cannot approve)_');
});

it('offers what could follow once the run ends, after the root is redrawn, and only then', async () => {
  const { said, errors } = await thread(
    [
      [moved('approved', 'running', 1), run('running')],
      [moved('running', 'succeeded', 2), run('succeeded')],
    ],
    [leaveNoteRunbook as unknown as AnyRunbook],
  );
  expect(errors).toEqual([]);
  expect(said.map((s) => s.kind)).toEqual(['update', 'update', 'post']);
  const offer = said[2]!;
  expect(offer.text).toBe('What next after add db3 to lab: Leave a note about it');
  expect(JSON.stringify(offer.blocks)).toContain('"action_id":"follow-up.plan"');
  expect(JSON.stringify(offer.blocks)).toContain('/kingbase leave-note lab db3 note=after add-standby');
});

it('posts nothing more when no runbook offers anything', async () => {
  const { said } = await thread([[moved('running', 'succeeded'), run('succeeded')]], []);
  expect(said.map((s) => s.kind)).toEqual(['update']);
});
