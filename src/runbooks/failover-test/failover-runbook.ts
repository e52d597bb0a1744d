import type { Runbook } from '../runbook';
import { targetNameOf, type FailoverFacts } from './failover-facts';
import { failoverInputSchema, resolveFailoverParams, type FailoverParams } from './failover-params';
import { RUNBOOK } from './failover-plan-context';
import { preflightDrill, preflightRestore } from './failover-preflight';
import { gatherFailoverFacts } from './gather-failover-facts';
import { planDrill } from './plan-drill';
import { planRestore } from './plan-restore';

// The failover drill of the write-up (§3) and the way back, as two phases of one runbook, each its
// own plan approved by two people other than the requester.

export const failoverSubject = (
  p: Pick<FailoverParams, 'phase' | 'target' | 'cluster'>,
  facts?: FailoverFacts,
): string =>
  p.phase === 'restore'
    ? `restore roles in ${p.cluster.name} after a failover test`
    : `failover test of ${p.cluster.name}: ${(facts && targetNameOf(facts, p.target)) ?? p.target ?? 'the newest node'} expected to take over`;

export const failoverTestRunbook: Runbook<FailoverParams, FailoverFacts> = {
  id: RUNBOOK.id,
  version: RUNBOOK.version,
  summary:
    'failover drill: stop the standbys but one and the primary, prove the promotion; then restore roles',
  form: { title: 'Failover test', submit: 'Plan it' },
  input: failoverInputSchema,
  approvals: { min: 2, requesterExcluded: true },
  resolve: resolveFailoverParams,
  gather: (params, { dialect, connector, now }) => gatherFailoverFacts(params, dialect, connector, now),
  preflight: (facts, params, dialect) =>
    params.phase === 'restore'
      ? preflightRestore(facts, params, dialect)
      : preflightDrill(facts, params, dialect),
  plan: ({ params, facts, dialect, requester, now }) =>
    (params.phase === 'restore' ? planRestore : planDrill)({ params, facts, dialect, requester, now }),
  subject: failoverSubject,
  followUps: (done) => {
    // After a node was added: prove the cluster survives losing its primary, with that node as the winner.
    if (done.runbook === 'add-node' && done.state === 'succeeded' && typeof done.params.name === 'string')
      return [{ label: 'Plan a failover test', values: { cluster: done.cluster, target: done.params.name } }];
    // After a drill that stopped the primary and did not put it back: the way back, planned afresh.
    if (
      done.runbook === RUNBOOK.id &&
      done.params.phase === 'drill' &&
      done.state !== 'rolled_back' &&
      done.stepsDone.includes('stop-primary')
    )
      return [{ label: 'Plan the restore', values: { cluster: done.cluster, phase: 'restore' } }];
    return [];
  },
};
