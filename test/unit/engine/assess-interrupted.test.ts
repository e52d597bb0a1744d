import { systemClock } from '../../../src/adapters/system-clock';
import { change, readOnly, repeatable, sql } from '../../../src/cluster/step-builders';
import type { Step } from '../../../src/core/plan';
import type { Run } from '../../../src/core/run';
import { assessInterrupted } from '../../../src/engine/assess-interrupted';
import { planOf } from './executor-harness';
import { FakeConnector } from './fakes';

// After a crash, where a resume may continue: the last steps of add-node's shape (write a marker,
// verify, drop the marker). The drop is repeatable, not probed: a probe reading "done" after the
// marker's own probe reads "absent" would refuse the resume.

const markerProbe = (present: boolean) => ({
  probe: { kind: 'sql' as const, sql: 'select to_regclass($1) is not null as present', params: ['m'] },
  present: { kind: 'column-equals' as const, column: 'present', value: present },
});
const marker = change(
  'marker',
  'write a marker',
  'n1',
  sql('create table m as select 1'),
  [sql('drop table if exists m')],
  markerProbe(true),
);
const verdict = readOnly('verdict', 'verify', 'n1', sql('select 1'));

const runAt = (steps: Step[], nextStep: number): Run => ({
  id: 'RASSESS01',
  cluster: 'c1',
  plan: planOf(steps),
  state: 'interrupted',
  requester: 'U_REQ',
  createdAt: '2026-11-20T00:00:00.000Z',
  updatedAt: '2026-11-20T00:00:00.000Z',
  expiresAt: null,
  nextStep,
  undoNext: null,
  owner: null,
  leaseUntil: null,
  cancelRequested: false,
  meta: {},
});

/** The marker table is gone: the drop ran before the crash, but the journal does not say so. */
const dropped = () => {
  const c = new FakeConnector();
  c.sqlAnswer = () => [{ present: false }];
  return c;
};

it('resumes at the marker (and verifies again) when the drop ran but was not journaled', async () => {
  const drop = repeatable('drop-marker', 'remove the marker', 'n1', sql('drop table if exists m'));
  const a = await assessInterrupted(runAt([marker, verdict, drop], 2), dropped(), systemClock);
  expect([a.resumeAt, a.why]).toEqual([0, 'resume re-runs from step 1 (write a marker)']);
});

it('runs the drop again when the crash came before it (the marker is still there)', async () => {
  const drop = repeatable('drop-marker', 'remove the marker', 'n1', sql('drop table if exists m'));
  const c = new FakeConnector();
  c.sqlAnswer = () => [{ present: true }];
  const a = await assessInterrupted(runAt([marker, verdict, drop], 2), c, systemClock);
  expect(a.resumeAt).toBe(2);
});

it('would refuse the same resume were the drop probed for "the marker is gone"', async () => {
  const probed = change(
    'drop-marker',
    'remove the marker',
    'n1',
    sql('drop table if exists m'),
    [],
    markerProbe(false),
  );
  const a = await assessInterrupted(runAt([marker, verdict, probed], 2), dropped(), systemClock);
  expect([a.resumeAt, a.why]).toEqual([
    null,
    'step 1 has no effect but the later step 3 has: the cluster is not where the run left it',
  ]);
});
