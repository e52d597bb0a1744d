import type { Condition, Probe, Step } from '../core/plan';
import type { Dialect } from '../dialects/dialect';
import { readOnly } from './step-builders';

// "The primary streams to this standby", as every runbook asks it: the primary's replication view,
// the standby told apart by its application_name (every standby is 127.0.0.1 in the lab).

export const streamingProbe = (d: Dialect, standby: string): Extract<Probe, { kind: 'sql' }> => ({
  kind: 'sql',
  sql: `select state from ${d.sql.statReplication} where application_name = $1`,
  params: [standby],
});

export const isStreaming: Condition = { kind: 'column-equals', column: 'state', value: 'streaming' };

/** A read-only step on the primary: wait until it streams to `standby`. */
export const waitStreaming = (
  id: string,
  primary: string,
  standby: string,
  d: Dialect,
  timeoutMs: number,
): Step =>
  readOnly(
    id,
    `wait until ${primary} streams to ${standby}`,
    primary,
    { kind: 'wait-until', probe: streamingProbe(d, standby), until: isStreaming, intervalMs: 1000 },
    timeoutMs,
  );
