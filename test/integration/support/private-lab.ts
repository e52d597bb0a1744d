import { existsSync } from 'node:fs';
import { formatProblems, loadInventory } from '../../../src/config/load-inventory';
import type { ClusterConfig, Inventory } from '../../../src/config/normalise-inventory';
import { labDown } from '../../../lab/lab-down';
import { labLayout, type LabLayout } from '../../../lab/lab-layout';
import { labUp } from '../../../lab/lab-up';

// A lab of its own for a test file that changes the cluster (adds nodes, breaks things on
// purpose): other addresses and another directory than the shared lab, so files can run side by
// side. Bases in use: 10 shared lab, 20 lifecycle, 30 preflight, 40 faults, 50 add-node.

export interface PrivateLab {
  readonly lab: LabLayout;
  readonly inventory: Inventory;
  readonly cluster: ClusterConfig;
  stop(): Promise<void>;
}

export async function startPrivateLab(base: number, name: string): Promise<PrivateLab> {
  const lab = labLayout({ root: `/var/tmp/kbops-lab-${name}-${process.pid}`, base });
  const quiet = () => undefined;
  try {
    await labUp(lab, quiet);
  } catch (err) {
    await labDown(lab, quiet).catch(() => undefined); // leave nothing running behind a failed start
    throw err;
  }
  const inv = await loadInventory(lab.inventoryPath, { env: process.env });
  if (!inv.ok) throw new Error(`private lab inventory invalid:\n${formatProblems(inv.problems)}`);
  return {
    lab,
    inventory: inv.inventory,
    cluster: inv.inventory.clusters.lab!,
    stop: async () => {
      if (existsSync(lab.root)) await labDown(lab, quiet);
    },
  };
}
