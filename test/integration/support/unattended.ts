import { composeRuns } from '../../../src/app/compose-runs';
import type { Inventory } from '../../../src/config/normalise-inventory';
import type { SealedPlan } from '../../../src/core/plan';
import { runUnattended } from '../../../src/engine/run-unattended';
import type { Notifier } from '../../../src/ports/notifier';
import type { RunStore } from '../../../src/ports/run-store';

// A plan run now, approved by its requester alone, through the one composition every front end
// uses (as `kbops run … --yes` does).
export async function runPlanUnattended(
  plan: SealedPlan,
  o: {
    store: RunStore;
    inventory: Inventory;
    notifier: Notifier;
    owner: string;
    rollbackOnFailure: boolean;
    env?: NodeJS.ProcessEnv;
  },
) {
  const { runs, executor } = composeRuns({
    inventory: o.inventory,
    env: o.env ?? process.env,
    store: o.store,
    groupsOf: () => [],
    notifier: o.notifier,
    owner: o.owner,
    onError: (what, err) => {
      throw new Error(`${what}: ${String(err)}`);
    },
    unattended: { approver: plan.requester, rollbackOnFailure: o.rollbackOnFailure },
  });
  return runUnattended(plan, { runs, executor, store: o.store, owner: o.owner });
}
