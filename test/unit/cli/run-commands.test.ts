import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterConnector } from '../../../src/adapters/cluster-connector';
import type { CommandIo } from '../../../src/cli/cli-io';
import { rollbackCommand } from '../../../src/cli/run-commands';
import { createRunStore } from '../../../src/store/create-run-store';
import { testPlan } from '../../integration/support/test-plan';
import { writeupCluster } from '../runbooks/writeup-snapshot';

// `kbops rollback <run> --yes` runs undos without anyone approving them in Slack: like
// `add-node --yes`, only where the inventory allows unattended runs (issue 8, point 6).

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kbops-cli-rollback-'));
  const store = await createRunStore({ dataDir: dir });
  const r = await store.createRun({ id: 'RFAILED01', plan: testPlan('ESHA', 'UALICE'), expiresAt: null });
  if (!r.ok) throw new Error('locked');
  await store.applyEvent('RFAILED01', 'approve', { actor: 'UBOB' });
  await store.claimNext('w1', 60_000);
  await store.updateRun('RFAILED01', 'w1', { nextStep: 2 });
  await store.applyEvent('RFAILED01', 'fail', { actor: 'w1', owner: 'w1' });
  await store.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const io = () => {
  const lines: string[] = [];
  const sink: CommandIo = { out: (t) => lines.push(t), err: (t) => lines.push(t), tty: false };
  return { sink, lines };
};

it('refuses with exit 2 where unattended runs are off, and leaves the run as it was', async () => {
  const shells = jest.spyOn(ClusterConnector.prototype, 'shell');
  const ESHA = { ...(await writeupCluster()), allowUnattendedCli: false };
  const { sink, lines } = io();
  const code = await rollbackCommand(['RFAILED01', '--yes'], {
    inventory: { clusters: { ESHA }, reports: [] },
    env: {},
    io: sink,
    store: { KBOPS_STATE_DIR: dir },
    runbooks: [],
  });
  expect(code).toBe(2);
  expect(lines).toEqual([
    'kbops: cluster ESHA does not allow unattended CLI runs (allowUnattendedCli): roll run RFAILED01 back from Slack (/kingbase rollback RFAILED01)',
  ]);
  expect(shells).not.toHaveBeenCalled();
  const store = await createRunStore({ dataDir: dir });
  try {
    expect((await store.getRun('RFAILED01'))?.state).toBe('failed');
  } finally {
    await store.close();
  }
});

it('without --yes only says what it would do, wherever', async () => {
  const ESHA = { ...(await writeupCluster()), allowUnattendedCli: false };
  const { sink, lines } = io();
  const code = await rollbackCommand(['RFAILED01'], {
    inventory: { clusters: { ESHA }, reports: [] },
    env: {},
    io: sink,
    store: { KBOPS_STATE_DIR: dir },
    runbooks: [],
  });
  expect([code, lines]).toEqual([0, ['run RFAILED01 is failed; add --yes to undo its changes']]);
});
