import { existsSync, readdirSync } from 'node:fs';
import { isAlive } from '../../../lab/lab-exec';
import { formatProblems, loadInventory } from '../../../src/config/load-inventory';
import type { ClusterConfig, Inventory } from '../../../src/config/normalise-inventory';
import { labDown } from '../../../lab/lab-down';
import { labLayout, type LabLayout } from '../../../lab/lab-layout';
import { labUp } from '../../../lab/lab-up';
import { registerLabSecrets } from '../../support/artifacts';

// A lab of its own for a test file that changes the cluster (adds nodes, breaks things on
// purpose): other addresses and another directory than the shared lab, so files can run side by
// side. Bases in use: 10 shared lab, 20 lifecycle, 30 preflight, 40 faults, 50 add-node.

export interface PrivateLab {
  readonly lab: LabLayout;
  readonly inventory: Inventory;
  readonly cluster: ClusterConfig;
  stop(): Promise<void>;
}

/** A lab left by a test process that died (its pid is gone) holds the addresses: take it down. */
async function removeStale(base: number, name: string, quiet: () => void): Promise<void> {
  for (const entry of readdirSync('/var/tmp')) {
    const m = new RegExp(`^kbops-lab-${name}-(\\d+)$`).exec(entry);
    if (!m || Number(m[1]) === process.pid || isAlive(Number(m[1]))) continue;
    await labDown(labLayout({ root: `/var/tmp/${entry}`, base }), quiet).catch(() => undefined);
  }
}

export async function startPrivateLab(base: number, name: string): Promise<PrivateLab> {
  const lab = labLayout({ root: `/var/tmp/kbops-lab-${name}-${process.pid}`, base });
  const quiet = () => undefined;
  await removeStale(base, name, quiet);
  try {
    await labUp(lab, quiet);
  } catch (err) {
    await labDown(lab, quiet).catch(() => undefined); // leave nothing running behind a failed start
    throw err;
  }
  registerLabSecrets(lab); // for the secret scan at the end of the run (the lab is gone by then)
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
