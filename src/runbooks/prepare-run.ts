import type { ClusterConfig, Inventory } from '../config/normalise-inventory';
import { checksPassed, type Check } from '../core/check';
import type { SealedPlan } from '../core/plan';
import type { Failure } from '../core/run';
import { dialectFor } from '../dialects/dialect-for';
import type { Connector } from '../ports/connector';
import { cliUsage, type AnyRunbook } from './runbook';

// Plan a run of any runbook: check the request, read the cluster (read-only), judge it, and when
// every check passes, build and seal the plan. Every front end (chat, modal, CLI, console) comes
// through here, so one request gives the same verdict wherever it is typed.

export type Prepared =
  | { ok: false; failure: Failure }
  | {
      ok: true;
      runbook: AnyRunbook;
      cluster: ClusterConfig;
      params: unknown;
      facts: unknown;
      /** "add srv13 (127.0.0.13) to lab" */
      subject: string;
      preflight: readonly Check[];
      /** Present only when preflight passed. */
      plan?: SealedPlan;
    };

export interface PrepareOptions {
  readonly inventory: Inventory;
  readonly requester: string;
  readonly now?: Date;
  /** Read-only connections to the cluster's hosts; closed when the facts are read. */
  readonly connectorFor: (cluster: ClusterConfig) => Connector;
}

/** The input checked against the runbook's schema and the inventory, with nothing connected yet. */
export function resolveInput(
  runbook: AnyRunbook,
  input: unknown,
  inventory: Inventory,
): { ok: true; cluster: ClusterConfig; params: unknown } | { ok: false; failure: Failure } {
  const parsed = runbook.input.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`);
    return {
      ok: false,
      failure: { code: 'bad-input', message: problems.join('; '), hint: cliUsage(runbook) },
    };
  }
  const values = parsed.data as Record<string, unknown>;
  const cluster = inventory.clusters[String(values.cluster)];
  if (!cluster) {
    const known = Object.keys(inventory.clusters).join(', ') || 'none';
    return {
      ok: false,
      failure: {
        code: 'unknown-cluster',
        message: `no cluster named ${JSON.stringify(values.cluster)}`,
        hint: `known clusters: ${known}`,
      },
    };
  }
  const resolved = runbook.resolve(values, cluster);
  return resolved.ok ? { ok: true, cluster, params: resolved.params } : resolved;
}

export async function prepareRun(runbook: AnyRunbook, input: unknown, o: PrepareOptions): Promise<Prepared> {
  const resolved = resolveInput(runbook, input, o.inventory);
  if (!resolved.ok) return resolved;
  const { cluster, params } = resolved;
  const dialect = dialectFor(cluster.dialect);
  const now = o.now ?? new Date();
  const connector = o.connectorFor(cluster);
  try {
    const facts = await runbook.gather(params, { dialect, connector, now });
    const preflight = runbook.preflight(facts, params, dialect);
    const base = {
      ok: true as const,
      runbook,
      cluster,
      params,
      facts,
      subject: runbook.subject(params, facts),
      preflight,
    };
    if (!checksPassed(preflight)) return base;
    const plan = runbook.plan({ params, facts, dialect, requester: o.requester, now });
    // What the approvers must be is bound to the plan's hash: it must say what the runbook demands.
    if (JSON.stringify(plan.approvals ?? null) !== JSON.stringify(runbook.approvals ?? null))
      throw new Error(
        `runbook ${runbook.id}: its plan demands ${JSON.stringify(plan.approvals ?? null)} of the approvers, the runbook ${JSON.stringify(runbook.approvals ?? null)}`,
      );
    return { ...base, plan };
  } finally {
    await connector.close();
  }
}
