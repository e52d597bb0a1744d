import type { Tally } from '../core/approval-policy';
import type { Run } from '../core/run';
import { planRootMessage as renderRoot } from '../render/plan-message';
import type { StepProgress } from '../render/run-progress';
import type { Check } from '../core/check';
import type { ChatMessage } from './chat-surface';

// The thread's root message, drawn from the run and what its meta keeps (preflight, approvals), so
// any process can redraw it at any time.

export function rootFromMeta(run: Run): { preflight: Check[]; tally: Tally | null } {
  const pf = Array.isArray(run.meta.preflight) ? (run.meta.preflight as unknown as Check[]) : [];
  const approvers = Array.isArray(run.meta.approvedBy) ? (run.meta.approvedBy as string[]) : [];
  return {
    preflight: pf,
    tally:
      approvers.length === 0
        ? null
        : { approvers, count: approvers.length, needed: approvers.length, satisfied: true },
  };
}

export function rootMessage(run: Run, now: Date, tally?: Tally | null, progress?: StepProgress): ChatMessage {
  const meta = rootFromMeta(run);
  return renderRoot({
    run,
    preflight: meta.preflight,
    tally: tally === undefined ? meta.tally : tally,
    now,
    ...(progress && { progress }),
  });
}
