import { ConsoleSurface } from '../../../src/console/console-surface';
import { FOLLOW_UP_ACTION, followUpMessage } from '../../../src/render/follow-up-message';
import { runOf, writeupFixture } from '../render/render-fixture';

// The console draws the follow-up offers as the thread shows them: the typed form of each offer,
// then its button as a choice `press n` can use, its long value cut on screen but kept whole.

it('shows a follow-up offer as a choice, its value cut on screen and kept whole for press', async () => {
  const { plan } = await writeupFixture();
  const values = { cluster: 'ESHA', node: 'srv159', note: 'after add-node' };
  const m = followUpMessage({
    run: runOf(plan, 'succeeded'),
    state: 'succeeded',
    offers: [
      {
        runbook: 'leave-note',
        label: 'Leave a note about it',
        values,
        command: '/kingbase leave-note ESHA srv159 note=after add-node',
      },
    ],
  })!;
  let out = '';
  const surface = new ConsoleSurface({ write: (t: string) => (out += t) });
  const root = await surface.post('console', { text: 'root' });
  await surface.post('console', m, root.ts);
  expect(out).toContain('• *Leave a note about it*: `/kingbase leave-note ESHA srv159 note=after add-node`');
  expect(out).toContain(
    '[1] Leave a note about it (follow-up.plan {"runbook":"leave-note","from":"run_7f3…)',
  );
  expect(surface.button(1)).toEqual({
    actionId: FOLLOW_UP_ACTION,
    label: 'Leave a note about it',
    value: JSON.stringify({ runbook: 'leave-note', from: 'run_7f3a9c2e', values }),
  });
});
