import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConnector } from '../../../src/adapters/cluster-connector';
import { kingbaseCommands } from '../../../commands/kingbase-commands';
import { runConsole } from '../../../src/console/kbops-console';
import { createRunStore } from '../../../src/store/create-run-store';
import { testPlan } from '../../integration/support/test-plan';
import { labCluster } from '../chatops/chatops-harness';

// The console lets anyone be anyone (`as UCAROL`): on a cluster without allowUnattendedCli it must
// not approve, roll back or unlock; reading and cancelling stay open (issue 8, point 6).

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kbops-console-gates-'));
  const store = await createRunStore({ dataDir: dir });
  for (const [id, cluster] of [
    ['RFAILED01', 'prod'],
    ['RWAITING1', 'prod2'],
  ] as const) {
    const r = await store.createRun({ id, plan: testPlan(cluster, 'UALICE'), expiresAt: null });
    if (!r.ok) throw new Error('locked');
  }
  await store.applyEvent('RFAILED01', 'approve', { actor: 'UBOB' });
  await store.claimNext('w1', 60_000);
  await store.updateRun('RFAILED01', 'w1', { nextStep: 2 });
  await store.applyEvent('RFAILED01', 'fail', { actor: 'w1', owner: 'w1' });
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* lines(...l: string[]): AsyncGenerator<string> {
  yield* l;
}

it('refuses rollback and unlock on a cluster without allowUnattendedCli; shows and lists runs', async () => {
  const shells = jest.spyOn(ClusterConnector.prototype, 'shell');
  const access = { ...(await labCluster()).access, channels: [] };
  const prod = await labCluster({ name: 'prod', access });
  const prod2 = await labCluster({ name: 'prod2', access });
  let out = '';
  await runConsole({
    inventory: { clusters: { prod, prod2 }, reports: [] },
    env: {},
    input: lines(
      'as UCAROL',
      '/kingbase rollback RFAILED01',
      '/kingbase unlock prod stuck',
      '/kingbase show RFAILED01',
      'as UALICE',
      '/kingbase cancel RWAITING1',
    ),
    out: { write: (t: string) => (out += t) },
    store: { KBOPS_STATE_DIR: dir },
    commands: kingbaseCommands(),
  });
  expect(out).toContain(
    'The console cannot rollback runs on prod: it cannot tell who is typing, and prod does not allow unattended runs (allowUnattendedCli). Do it in Slack.',
  );
  expect(out).toContain('The console cannot force a lock open on prod');
  expect(out).toMatch(/failed at step 3\/3: Verify[^]*run `RFAILED01` · plan/);
  expect(shells).not.toHaveBeenCalled();
  const store = await createRunStore({ dataDir: dir });
  try {
    expect((await store.getRun('RFAILED01'))?.state).toBe('failed');
    expect((await store.getLock('prod'))?.runId).toBe('RFAILED01');
    expect((await store.getRun('RWAITING1'))?.state).toBe('cancelled');
  } finally {
    await store.close();
  }
});
