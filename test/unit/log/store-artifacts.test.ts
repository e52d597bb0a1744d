import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunStore } from '../../../src/ports/run-store';
import { testPlan } from '../../integration/support/test-plan';
import { ARTIFACTS_ENV } from '../../support/artifacts';
import { scanForSecrets } from '../../support/scan-artifacts';
import { keepStoreArtifacts } from '../../support/store-artifacts';
import { memoryRunStore } from '../engine/memory-run-store';

// A store's runs (plans included) and journal rows reach the secret scan: a secret put in a plan
// parameter and a base64 one in a journal row are both found in the dump.

const SECRET = 'J0urnal-leak-value';

let root: string;
let store: RunStore;
const previous = process.env[ARTIFACTS_ENV];

// One embedded store for the file: opening one is the slow part.
beforeAll(async () => (store = await memoryRunStore()));
afterAll(() => store?.close());

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kbops-store-artifacts-'));
  mkdirSync(join(root, 'artifacts'));
  process.env[ARTIFACTS_ENV] = join(root, 'artifacts');
});
afterEach(() => {
  if (previous === undefined) delete process.env[ARTIFACTS_ENV];
  else process.env[ARTIFACTS_ENV] = previous;
  rmSync(root, { recursive: true, force: true });
});

it('dumps runs and every journal row, so the scan sees what they hold', async () => {
  const created = await store.createRun({
    id: 'RSCAN0001',
    plan: testPlan('lab', 'U-alice', { note: SECRET }),
    expiresAt: null,
  });
  expect(created.ok).toBe(true);
  for (let i = 0; i < 3; i++) {
    await store.append({
      runId: 'RSCAN0001',
      cluster: 'lab',
      actor: 'U-alice',
      event: {
        type: 'audit',
        action: `a${i}`,
        data: i === 2 ? { conf: Buffer.from(SECRET).toString('base64') } : {},
      },
    });
  }
  await keepStoreArtifacts(store, 'unit');
  const dir = join(root, 'artifacts');
  expect(readdirSync(dir)).toEqual([expect.stringMatching(/^\d+-\d+-unit-store\.jsonl$/)]);
  const findings = scanForSecrets(dir, [SECRET]);
  expect(findings.map((f) => f.form).sort()).toEqual(['base64', 'plain']);
});

it('writes nothing without KBOPS_TEST_ARTIFACTS', async () => {
  delete process.env[ARTIFACTS_ENV];
  await keepStoreArtifacts(store, 'unit');
  expect(readdirSync(join(root, 'artifacts'))).toEqual([]);
});
