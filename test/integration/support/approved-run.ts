import { composeRuns } from '../../../src/app/compose-runs';
import type { Inventory } from '../../../src/config/normalise-inventory';
import type { SealedPlan } from '../../../src/core/plan';
import type { Run } from '../../../src/core/run';
import type { Notifier } from '../../../src/ports/notifier';
import type { RunStore } from '../../../src/ports/run-store';

// A plan run now under the inventory's own approval policy (raised by the plan's demand): the
// given users vote through RunService (the server-side checks apply), then this process executes it.
export async function runApproved(
  plan: SealedPlan,
  approvers: readonly string[],
  o: { store: RunStore; inventory: Inventory; notifier: Notifier; owner: string },
): Promise<Run> {
  const { runs, executor } = composeRuns({
    inventory: o.inventory,
    env: process.env,
    store: o.store,
    groupsOf: () => [],
    notifier: o.notifier,
    owner: o.owner,
    onError: (what, err) => {
      throw new Error(`${what}: ${String(err)}`);
    },
  });
  const submitted = await runs.submit(plan);
  if (!submitted.ok) throw new Error(`submit: ${submitted.failure.message}`);
  const id = submitted.run.id;
  for (const user of approvers) {
    const v = await runs.vote(id, user, 'approve', plan.hash);
    if (!v.ok) throw new Error(`vote by ${user}: ${v.failure.message}`);
  }
  const claimed = await o.store.applyEvent(id, 'start', {
    actor: o.owner,
    claim: { owner: o.owner, leaseMs: 60_000 },
  });
  if (!claimed.ok) throw new Error(`start: ${claimed.reason}`);
  return executor.execute(claimed.run);
}
