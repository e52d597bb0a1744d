import { labLayout, labOptionsFromEnv } from '../../lab/lab-layout';
import { labUp } from '../../lab/lab-up';

// Integration tests run against the real lab. If it cannot be brought up, the run fails here:
// these tests are never skipped.
export default async function globalSetup(): Promise<void> {
  const lab = labLayout(labOptionsFromEnv(process.env));
  try {
    await labUp(lab, (line) => process.stderr.write(`[lab] ${line}\n`));
  } catch (err) {
    throw new Error(
      `the lab did not come up, so the integration tests cannot run: ${(err as Error).message}`,
    );
  }
}
