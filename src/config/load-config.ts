import type { ConfigProblem } from './inventory-rules';
import { loadInventory } from './load-inventory';
import type { Inventory } from './normalise-inventory';
import { readEnvOptions, type EnvOptions } from './read-env-options';
import type { Env } from './resolve-secret';

export type ConfigResult =
  | { ok: true; options: EnvOptions; inventory: Inventory; inventoryPath: string; secrets: readonly string[] }
  | { ok: false; problems: readonly ConfigProblem[] };

/** Everything kbops needs to start, checked in one go: env problems and inventory problems together. */
export async function loadConfig(env: Env = process.env): Promise<ConfigResult> {
  const envResult = readEnvOptions(env);
  const inventoryPath = envResult.ok
    ? envResult.options.KBOPS_INVENTORY
    : (env.KBOPS_INVENTORY ?? './kbops.yaml');
  const inv = await loadInventory(inventoryPath, { env });
  const problems = [...(envResult.ok ? [] : envResult.problems), ...(inv.ok ? [] : inv.problems)];
  if (!envResult.ok || !inv.ok) return { ok: false, problems };
  return {
    ok: true,
    options: envResult.options,
    inventory: inv.inventory,
    inventoryPath,
    secrets: inv.secrets,
  };
}
