import { readFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import type { LabLayout } from '../lab/lab-layout';
import { formatProblems, parseInventory } from '../src/config/load-inventory';
import type { ClusterConfig, Inventory } from '../src/config/normalise-inventory';

// An inventory of many clusters that all point at the lab's hosts (as the issue allows): each one
// the lab's own cluster entry, renamed, with its three data nodes (primary and two standbys) and its
// pool. Loaded and checked like any operator's inventory.

export interface BenchInventory {
  readonly inventory: Inventory;
  readonly clusters: readonly ClusterConfig[];
  readonly text: string;
}

export const benchClusterName = (i: number, count: number): string =>
  `bench-${String(i + 1).padStart(String(count).length, '0')}`;

export async function benchInventory(lab: LabLayout, count: number): Promise<BenchInventory> {
  const doc = parse(await readFile(lab.inventoryPath, 'utf8')) as {
    clusters?: Record<string, Record<string, unknown>>;
  };
  const template = doc.clusters?.lab;
  if (!template) throw new Error(`${lab.inventoryPath} has no cluster "lab"`);
  const nodes = lab.hosts.map((h) => ({ name: h.name, host: h.address }));
  const clusters = Object.fromEntries(
    Array.from({ length: count }, (_, i) => [benchClusterName(i, count), { ...template, nodes }]),
  );
  const text = `# ${count} clusters on the lab at ${lab.poolAddress}: written by bench/report-bench.ts\n${stringify({ clusters })}`;
  const r = await parseInventory(text, 'bench inventory', { env: process.env });
  if (!r.ok) throw new Error(`the bench inventory is invalid:\n${formatProblems(r.problems)}`);
  const loaded = Object.values(r.inventory.clusters);
  if (loaded.length !== count)
    throw new Error(`the bench inventory has ${loaded.length} clusters, not ${count}`);
  return { inventory: r.inventory, clusters: loaded, text };
}
