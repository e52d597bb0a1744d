import { labLayout, labOptionsFromEnv } from '../../lab/lab-layout';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { labDown } from '../../lab/lab-down';
import { labUp } from '../../lab/lab-up';

// Integration tests run against the real lab. If it cannot be brought up, the run fails here:
// these tests are never skipped.
export default async function globalSetup(): Promise<void> {
  const lab = labLayout(labOptionsFromEnv(process.env));
  const say = (line: string) => process.stderr.write(`[lab] ${line}\n`);
  try {
    // The tests expect the lab as `up` makes it: if a demo has added host 3 since, start afresh.
    if (existsSync(join(lab.hosts[2].dataDir, 'PG_VERSION'))) {
      say('host 3 was added to the shared lab (a demo?): rebuilding it for the tests');
      await labDown(lab, say);
    }
    await labUp(lab, say);
  } catch (err) {
    throw new Error(
      `the lab did not come up, so the integration tests cannot run: ${(err as Error).message}`,
    );
  }
}
