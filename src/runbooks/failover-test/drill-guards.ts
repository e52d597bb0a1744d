import type { Guard } from '../../core/plan';
import { exitZero } from '../../cluster/step-builders';
import { isStreaming, streamingProbe } from '../../cluster/streaming';
import type { FailoverNode } from './failover-facts';
import { inRecoverySql, statusProbe, type PlanContext } from './failover-plan-context';

// What the drill stands on, read again before its first change (and at a resume or retry): the
// roles and the streaming it was planned for. Each names the step that changes it.

export function drillGuards(
  ctx: PlanContext,
  P: FailoverNode,
  T: FailoverNode,
  others: readonly FailoverNode[],
): Guard[] {
  const d = ctx.dialect;
  return [
    {
      name: `${P.name} is still the primary`,
      target: P.name,
      probe: inRecoverySql(d),
      expect: { kind: 'column-equals', column: 'in_recovery', value: false },
      until: 'stop-primary',
    },
    ...[T, ...others].map((n) => ({
      name: `${n.name} still streams from ${P.name}`,
      target: P.name,
      probe: streamingProbe(d, n.name),
      expect: isStreaming,
      until: n === T ? 'stop-primary' : `stop-${n.name}`,
    })),
    ...[P, ...others].map((n) => ({
      name: `${n.name}'s server runs`,
      target: n.name,
      probe: statusProbe(d, n),
      expect: exitZero,
      until: n === P ? 'stop-primary' : `stop-${n.name}`,
    })),
  ];
}
