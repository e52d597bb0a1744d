import { describeTally, type Tally } from '../core/approval-policy';
import type { Run } from '../core/run';
import type { RunState } from '../core/run-state';
import type { PreflightCheck } from '../runbooks/add-node/add-node-preflight';
import type { ChatMessage } from './chat-surface';

// The thread's root message: what is asked, what preflight found, who approved, and the buttons
// that apply in the run's state. Buttons carry only the run id; every click is re-checked.

type Button = { id: string; text: string; style?: 'primary' | 'danger'; confirm?: string };

const BUTTONS: Partial<Record<RunState, readonly Button[]>> = {
  awaiting_approval: [
    { id: 'run.approve', text: 'Approve', style: 'primary', confirm: 'Approve this exact plan?' },
    { id: 'run.reject', text: 'Reject', style: 'danger', confirm: 'Reject and end this run?' },
  ],
  running: [{ id: 'run.cancel', text: 'Cancel', style: 'danger', confirm: 'Stop at the current step?' }],
  failed: [
    { id: 'run.rollback', text: 'Roll back', style: 'danger', confirm: 'Undo every change of this run?' },
    { id: 'run.retry', text: 'Retry', confirm: 'Run the failed step again?' },
  ],
  interrupted: [
    {
      id: 'run.resume',
      text: 'Resume',
      style: 'primary',
      confirm: 'Continue after the last confirmed step?',
    },
    { id: 'run.rollback', text: 'Roll back', style: 'danger', confirm: 'Undo every change of this run?' },
  ],
  cancelled: [
    { id: 'run.rollback', text: 'Roll back', style: 'danger', confirm: 'Undo every change of this run?' },
  ],
  rollback_failed: [{ id: 'run.rollback', text: 'Roll back again', style: 'danger' }],
};

const STATE_TEXT: Record<RunState, string> = {
  awaiting_approval: ':large_yellow_circle: awaiting approval',
  approved: ':large_blue_circle: approved, starting',
  running: ':arrows_counterclockwise: running',
  succeeded: ':white_check_mark: succeeded',
  failed: ':x: failed',
  rolling_back: ':rewind: rolling back',
  rolled_back: ':leftwards_arrow_with_hook: rolled back',
  rollback_failed: ':rotating_light: rollback failed: needs a person',
  rejected: ':no_entry: rejected',
  expired: ':hourglass: expired',
  cancelled: ':octagonal_sign: cancelled',
  interrupted: ':warning: interrupted (kbops restarted)',
};

const mention = (u: string) => `<@${u}>`;

export function planRootMessage(
  run: Run,
  tally: Tally,
  preflight: readonly PreflightCheck[],
  status?: string,
): ChatMessage {
  const p = run.plan;
  const title = `${p.runbook.id} ${String(p.params.host ?? '')} on ${p.cluster}`;
  const checks = preflight.filter((c) => c.status !== 'pass');
  const preflightText =
    preflight.length === 0
      ? ''
      : checks.length === 0
        ? `:white_check_mark: preflight: all ${preflight.length} checks pass`
        : `preflight: ${checks.map((c) => `${c.status === 'fail' ? ':x:' : ':warning:'} ${c.name}: ${c.message}`).join('\n')}`;
  const buttons = BUTTONS[run.state] ?? [];
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: title.slice(0, 150) } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*Run ${run.id}* requested by ${mention(run.requester)} · plan \`${p.hash.slice(0, 12)}\` · ${p.steps.length} steps\n*State:* ${STATE_TEXT[run.state]}${status ? ` — ${status}` : ''}\n*Approvals:* ${describeTally(tally, mention)}`.slice(
          0,
          3000,
        ),
      },
    },
    ...(preflightText
      ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: preflightText.slice(0, 3000) }] }]
      : []),
    ...(buttons.length > 0
      ? [
          {
            type: 'actions',
            block_id: `run-actions`,
            elements: buttons.map((b) => ({
              type: 'button',
              action_id: b.id,
              text: { type: 'plain_text', text: b.text },
              value: run.id,
              ...(b.style && { style: b.style }),
              ...(b.confirm && {
                confirm: {
                  title: { type: 'plain_text', text: 'Are you sure?' },
                  text: { type: 'plain_text', text: b.confirm },
                  confirm: { type: 'plain_text', text: b.text },
                  deny: { type: 'plain_text', text: 'No' },
                },
              }),
            })),
          },
        ]
      : []),
  ];
  return { text: `${title}: ${run.state}`, blocks };
}

/** What the root message keeps in the run's meta, so it can be redrawn by anyone, any time. */
export function rootFromMeta(run: Run): { preflight: PreflightCheck[]; tally: Tally } {
  const pf = Array.isArray(run.meta.preflight) ? (run.meta.preflight as unknown as PreflightCheck[]) : [];
  const approvers = Array.isArray(run.meta.approvedBy) ? (run.meta.approvedBy as string[]) : [];
  return {
    preflight: pf,
    tally: {
      approvers,
      count: approvers.length,
      needed: Math.max(1, approvers.length),
      satisfied: approvers.length > 0,
    },
  };
}
