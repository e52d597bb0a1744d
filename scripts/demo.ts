import { runCli } from '../src/cli/main';
import { labLayout, labOptionsFromEnv } from '../lab/lab-layout';
import { labUp } from '../lab/lab-up';

// npm run demo — the main job on the embedded default: bring the lab up, then add its empty
// host to the cluster with kbops (preflight, plan, base backup with progress, verdict).
async function main(): Promise<number> {
  const lab = labLayout(labOptionsFromEnv(process.env));
  await labUp(lab, (line) => process.stdout.write(`[lab] ${line}\n`));
  const env = {
    KBOPS_STATE_DIR: `${lab.root}/kbops-state`,
    ...process.env,
    KBOPS_INVENTORY: lab.inventoryPath,
  };
  const code = await runCli(['add-node', '--cluster', 'lab', '--host', lab.hosts[2].address, '--yes'], env, {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    write: (t) => process.stdout.write(t),
    tty: process.stdout.isTTY === true,
  });
  if (code === 3)
    process.stderr.write('(already added? start over with: npm run lab -- down && npm run demo)\n');
  return code;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
