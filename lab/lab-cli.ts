import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './lab-exec';
import { labDown } from './lab-down';
import { labLayout, labOptionsFromEnv, type LabLayout } from './lab-layout';
import { PG_BIN } from './lab-packages';
import { lookupUser, trySql } from './lab-state';
import { labUp, poolPid, sshdPid } from './lab-up';

// npm run lab -- up|down|status|env

const USAGE = `usage: npm run lab -- up|down|status|env

  up      create or repair the three-host lab (idempotent; installs Debian packages as root)
  down    stop every lab process and remove everything up made
  status  one line per host and for pgpool-II
  env     print the variables that point kbops at the lab (eval "$(npm run -s lab -- env)")

Environment: KBOPS_LAB_DIR (default /var/lib/kbops-lab), KBOPS_LAB_BASE (default 10: pool
127.0.0.10, hosts .11-.13), KBOPS_LAB_SSH_PORT (default 22).`;

export async function labStatus(lab: LabLayout, say: (line: string) => void): Promise<boolean> {
  if (!existsSync(lab.root)) {
    say(`no lab at ${lab.root} (npm run lab -- up)`);
    return false;
  }
  const user = await lookupUser(lab.osUser);
  let healthy = true;
  for (const h of lab.hosts) {
    const sshd = await sshdPid(h);
    const pg = user
      ? await run(join(PG_BIN, 'pg_ctl'), ['status', '-D', h.dataDir], { as: user, allowFailure: true })
      : undefined;
    let db = 'no data directory';
    if (pg?.code === 0) {
      const rows = await trySql<{ r: boolean }>(
        lab,
        { host: h.address, port: lab.sqlPort },
        'select pg_is_in_recovery() as r',
      );
      db = rows ? (rows[0]?.r ? 'standby' : 'primary') : 'running, not answering SQL';
    } else if (existsSync(join(h.dataDir, 'PG_VERSION'))) db = 'stopped';
    // Host 3 starts empty; once kbops has added it, it is a standby.
    const expected = h.index < 2 ? [['primary', 'standby'][h.index]] : ['no data directory', 'standby'];
    if (!sshd || !expected.includes(db)) healthy = false;
    say(`${h.name} ${h.address.padEnd(11)} sshd ${sshd ? `up (pid ${sshd})` : 'DOWN'}  postgres ${db}`);
  }
  const pool = await poolPid(lab);
  const nodes = pool
    ? await trySql<{ node_id: string; hostname: string; status: string; role: string; lb_weight: string }>(
        lab,
        { host: lab.poolAddress, port: lab.pool.sqlPort },
        'show pool_nodes',
      )
    : undefined;
  if (!pool || !nodes) healthy = false;
  say(`pgpool ${lab.poolAddress}:${lab.pool.sqlPort} ${pool ? `up (pid ${pool})` : 'DOWN'}`);
  for (const n of nodes ?? [])
    say(`  node ${n.node_id} ${n.hostname} ${n.status} ${n.role} weight ${n.lb_weight}`);
  return healthy;
}

async function main(argv: readonly string[]): Promise<number> {
  const verb = argv[0];
  const lab = labLayout(labOptionsFromEnv(process.env));
  const say = (line: string) => process.stdout.write(`${line}\n`);
  switch (verb) {
    case 'up':
      await labUp(lab, say);
      return (await labStatus(lab, say)) ? 0 : 1;
    case 'down':
      await labDown(lab, say);
      return 0;
    case 'status':
      return (await labStatus(lab, say)) ? 0 : 1;
    case 'env':
      say(`export KBOPS_LAB_DIR=${lab.root}`);
      say(`export KBOPS_INVENTORY=${lab.inventoryPath}`);
      return 0;
    default:
      process.stderr.write(`${USAGE}\n`);
      return verb === undefined || verb === 'help' || verb === '--help' ? 0 : 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
