import { addNodeRunbook } from './add-node/add-node-runbook';
import { failoverTestRunbook } from './failover-test/failover-runbook';
import type { AnyRunbook } from './runbook';

// Every runbook kbops offers, one line each. Nothing else in kbops names a runbook: chat, modal,
// CLI, console and help are generated from this list.
export const RUNBOOKS: readonly AnyRunbook[] = [addNodeRunbook, failoverTestRunbook];

export const runbookById = (runbooks: readonly AnyRunbook[], id: string): AnyRunbook | undefined =>
  runbooks.find((r) => r.id === id);
