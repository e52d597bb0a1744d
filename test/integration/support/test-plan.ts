import type { Json } from '../../../src/core/json';
import { sealPlan, type SealedPlan } from '../../../src/core/plan';

/**
 * A small sealed plan: a check, one mutating step (with its undo), a verification. nextStep 2 means
 * the mutating step completed. `extra` lands in params, to test how odd JSON round-trips.
 */
export function testPlan(
  cluster: string,
  requester = 'U-alice',
  extra: Record<string, Json> = {},
): SealedPlan {
  const probe = { kind: 'sql', sql: 'SELECT 1 AS one', params: [] } as const;
  return sealPlan({
    formatVersion: 1,
    runbook: { id: 'add-standby', version: 3 },
    cluster,
    dialect: 'postgresql-15',
    params: { node: 'db3', ...extra },
    requester,
    createdAt: '2025-01-02T03:04:05.678Z',
    targets: {
      primary: { name: 'primary', host: '10.0.0.1', sshPort: 22, sqlPort: 5432, database: 'postgres' },
    },
    snapshot: { nodes: [{ id: 0, role: 'primary' }], checksum: null },
    steps: [
      {
        id: 'check',
        title: 'Check the primary',
        target: 'primary',
        action: { kind: 'verify', probe, expect: { kind: 'row-count', min: 1 } },
        timeoutMs: 5000,
        mutates: false,
        undo: null,
      },
      {
        id: 'slot',
        title: 'Create the replication slot',
        target: 'primary',
        action: { kind: 'sql', sql: "SELECT pg_create_physical_replication_slot('db3')", params: [] },
        timeoutMs: 5000,
        mutates: true,
        undo: [{ kind: 'sql', sql: "SELECT pg_drop_replication_slot('db3')", params: [] }],
        effect: { probe, present: { kind: 'row-count', min: 1 } },
      },
      {
        id: 'verify',
        title: 'Verify',
        target: 'primary',
        action: { kind: 'verify', probe, expect: { kind: 'row-count', min: 1 } },
        timeoutMs: 5000,
        mutates: false,
        undo: null,
      },
    ],
  });
}
