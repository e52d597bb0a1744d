import { z } from 'zod';
import type { ClusterConfig } from '../../config/normalise-inventory';
import { nodeNameSchema } from '../../config/inventory-schema';
import { field, type Resolved } from '../runbook';

// What a person asks for: `/kingbase failover-test <cluster> [target=<node>] [phase=restore]
// [wait=<seconds>]`. The drill (phase drill) stops every standby but the target and then the
// primary, and proves the target was promoted; the restore (phase restore) brings the stopped
// nodes back as standbys of the new primary. Each phase is its own plan, approved on its own.

export const PHASES = ['drill', 'restore'] as const;
export type Phase = (typeof PHASES)[number];

/** Numbered rows the drill writes through the pool before it stops the primary (to count losses). */
export const DRILL_ROWS = 100;
export const DEFAULT_WAIT_S = 60;

export const failoverInputSchema = z.strictObject({
  cluster: field(z.string().min(1).max(63), {
    kind: 'cluster',
    position: 0,
    placeholder: 'cluster',
    label: 'Cluster',
  }),
  target: field(nodeNameSchema.optional(), {
    kind: 'text',
    chat: true,
    placeholder: 'node',
    label: 'Standby expected to take over (default: the newest data node)',
    maxLength: 58,
  }),
  phase: field(z.enum(PHASES).optional(), {
    kind: 'text',
    chat: true,
    placeholder: 'drill|restore',
    label: 'drill (default), or restore: the stopped nodes rejoin as standbys',
    maxLength: 7,
  }),
  wait: field(z.number().int().min(5).max(900).optional(), {
    kind: 'number',
    chat: true,
    placeholder: 'seconds',
    label: 'Longest wait for the promotion, in seconds (default 60)',
  }),
});

type CheckedInput = z.output<typeof failoverInputSchema>;

export interface FailoverParams {
  readonly cluster: ClusterConfig;
  readonly phase: Phase;
  /** undefined: the newest data node (the pool's highest backend index), chosen from the facts. */
  readonly target?: string;
  readonly waitMs: number;
}

export function resolveFailoverParams(
  input: Record<string, unknown>,
  cluster: ClusterConfig,
): Resolved<FailoverParams> {
  const p = input as CheckedInput;
  if (p.phase === 'restore' && p.wait !== undefined)
    return {
      ok: false,
      failure: {
        code: 'bad-input',
        message: 'wait: only the drill waits for a promotion',
        hint: 'leave wait= out of a restore',
      },
    };
  return {
    ok: true,
    params: {
      cluster,
      phase: p.phase ?? 'drill',
      ...(p.target !== undefined && { target: p.target }),
      waitMs: (p.wait ?? DEFAULT_WAIT_S) * 1000,
    },
  };
}
