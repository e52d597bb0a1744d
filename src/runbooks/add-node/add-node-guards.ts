import type { Condition, Guard, Step } from '../../core/plan';
import type { NodeFacts } from '../../cluster/cluster-facts';
import { poolNodesQuery } from '../../cluster/manager-control';
import { exitZero } from '../../cluster/step-builders';
import { poolTargetName } from '../../cluster/target-of';
import type { PlanContext } from './add-node-plan-context';

// The facts the add-node plan stands on, read again before the run changes anything (at its start,
// resume or retry). Each names the step that changes it; after that step the run owns the fact.

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const noRows: Condition = { kind: 'row-count', max: 0 };
const firstStep = (steps: readonly Step[], test: (s: Step) => boolean): string | undefined =>
  steps.find(test)?.id;

export function addNodeGuards(
  ctx: PlanContext,
  primary: NodeFacts,
  slot: string,
  slotNodes: readonly NodeFacts[],
  steps: readonly Step[],
): Guard[] {
  const { dialect: d, snapshot: snap } = ctx;
  const N = snap.newHost;
  const guards: Guard[] = [];
  const until = (id: string | undefined) =>
    id !== undefined && steps.some((s) => s.id === id) ? { until: id } : {};

  // Roles: a plan made for this primary must not run after a failover.
  for (const node of snap.nodes) {
    if (node.inRecovery === null) continue;
    guards.push({
      name: node === primary ? `${node.name} is still the primary` : `${node.name} is still a standby`,
      target: node.name,
      probe: { kind: 'sql', sql: `select ${d.sql.isInRecovery}() as in_recovery`, params: [] },
      expect: { kind: 'column-equals', column: 'in_recovery', value: node !== primary },
    });
  }

  // The new host: its data directory as the plan found it, its port free, its name unused.
  if (N.dataDirState === 'absent') {
    guards.push({
      name: `${N.name}'s data directory ${N.dataDir} does not exist`,
      target: N.name,
      probe: { kind: 'ssh', argv: ['test', '-e', N.dataDir] },
      expect: { kind: 'exit-code', equals: 1 },
      ...until('datadir'),
    });
  } else if (N.dataDirState === 'empty') {
    guards.push({
      name: `${N.name}'s data directory ${N.dataDir} is empty`,
      target: N.name,
      probe: { kind: 'ssh', argv: ['find', N.dataDir, '-maxdepth', '0', '-type', 'd', '-empty'] },
      expect: { kind: 'all', of: [exitZero, { kind: 'stdout-matches', pattern: '\\S' }] },
      ...until('basebackup'),
    });
  }
  const ipv4 = /^\d+\.\d+\.\d+\.\d+$/.test(N.host);
  const addresses = ipv4 ? `(?:${escapeRegExp(N.host)}|0\\.0\\.0\\.0|\\*|\\[?::\\]?)` : '\\S+';
  guards.push({
    name: `nothing listens on ${N.host}:${N.sqlPort}`,
    target: N.name,
    probe: { kind: 'ssh', argv: ['ss', '-ltn'] },
    expect: {
      kind: 'all',
      of: [
        exitZero,
        {
          kind: 'not',
          of: { kind: 'stdout-matches', pattern: `^LISTEN\\s.*\\s${addresses}:${N.sqlPort}\\s` },
        },
      ],
    },
    ...until('start'),
  });
  guards.push({
    name: `no standby named ${N.name} streams from ${primary.name}`,
    target: primary.name,
    probe: {
      kind: 'sql',
      sql: `select 1 from ${d.sql.statReplication} where application_name = $1`,
      params: [N.name],
    },
    expect: noRows,
    ...until('start'),
  });
  for (const node of slotNodes) {
    guards.push({
      name: `no replication slot ${slot}`,
      target: node.name,
      probe: {
        kind: 'sql',
        sql: `select 1 from ${d.sql.replicationSlots} where slot_name = $1`,
        params: [slot],
      },
      expect: noRows,
      ...until(`slot-${node.name}`),
    });
  }
  const marker = `kbops_marker_${N.name}`;
  guards.push({
    name: `no table ${marker}`,
    target: primary.name,
    probe: { kind: 'sql', sql: 'select 1 where to_regclass($1) is not null', params: [marker] },
    expect: noRows,
    ...until('marker'),
  });

  // Pools: the same backends as planned (their configuration files are guarded below).
  const firstPoolStep = firstStep(steps, (s) => s.target.startsWith('pool-'));
  for (const m of snap.managers) {
    if (m.poolNodes === null) continue;
    guards.push({
      name: `${m.node}'s pool still has ${m.poolNodes.length} backends`,
      target: poolTargetName(m.node),
      probe: poolNodesQuery,
      expect: { kind: 'row-count', min: m.poolNodes.length, max: m.poolNodes.length },
      ...until(firstPoolStep),
    });
  }

  // Every file the plan edits on the existing nodes is still what was reviewed (the new host's
  // files are made by the run itself; the data directory guard covers them).
  for (const step of steps) {
    if (step.action.kind !== 'file-edit' || step.target === N.name) continue;
    guards.push({
      name: `${step.action.path} is unchanged`,
      target: step.target,
      probe: { kind: 'file', path: step.action.path },
      expect: { kind: 'file-sha', sha256: step.action.expectedSha256 },
      until: step.id,
    });
  }
  return guards;
}
