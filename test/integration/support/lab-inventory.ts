import { formatProblems, loadInventory } from '../../../src/config/load-inventory';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { labLayout, labOptionsFromEnv, type LabLayout } from '../../../lab/lab-layout';

export const lab: LabLayout = labLayout(labOptionsFromEnv(process.env));

/** The lab's own inventory, loaded and checked like any operator's. */
export async function labCluster(): Promise<ClusterConfig> {
  const r = await loadInventory(lab.inventoryPath, { env: process.env });
  if (!r.ok) throw new Error(`lab inventory invalid:\n${formatProblems(r.problems)}`);
  const cluster = r.inventory.clusters.lab;
  if (!cluster) throw new Error('lab inventory has no cluster "lab"');
  return cluster;
}
