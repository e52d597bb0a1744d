import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { labDown } from '../lab/lab-down';
import { labLayout, type LabLayout } from '../lab/lab-layout';
import { labStatus } from '../lab/lab-cli';
import { labUp, poolPid, sshdPid } from '../lab/lab-up';
import { trySql } from '../lab/lab-state';

// The bench's own lab: brought up at its base (or reused when one is up there already), its third
// host made a streaming standby the way an operator would (kbops's own add-node, unattended), so
// every inventory cluster has a primary, two standbys and a pool with three backends.

type Say = (line: string) => void;

export interface BenchLab {
  readonly lab: LabLayout;
  /** It was up before the bench: it is left up. */
  readonly wasUp: boolean;
  /** Tears down a lab this bench brought up (unless kept); idempotent. */
  teardown(say: Say): Promise<void>;
}

const REPO = resolve(__dirname, '..');

/** Runs the kbops CLI as an operator would; its output only on failure (it names no secret). */
function kbopsCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(join(REPO, 'node_modules', '.bin', 'tsx'), ['commands/kbops.ts', ...args], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0
        ? ok()
        : fail(
            new Error(`kbops ${args.join(' ')} exited ${code}:\n${out.split('\n').slice(-15).join('\n')}`),
          ),
    );
  });
}

const poolBackends = async (lab: LabLayout): Promise<number> =>
  (await trySql(lab, { host: lab.poolAddress, port: lab.pool.sqlPort }, 'show pool_nodes'))?.length ?? 0;

/** Adds the lab's third host as a standby with `kbops run add-node` when the pool lists only two. */
async function ensureThirdNode(lab: LabLayout, say: Say): Promise<void> {
  if ((await poolBackends(lab)) >= 3) return;
  const host = lab.hosts[2];
  say(`adding ${host.name} (${host.address}) as a standby with kbops add-node …`);
  const state = await mkdtemp(join(tmpdir(), 'kbops-bench-add-'));
  try {
    await kbopsCli(['run', 'add-node', '--cluster', 'lab', '--host', host.address, '--yes'], {
      ...process.env,
      KBOPS_INVENTORY: lab.inventoryPath,
      KBOPS_STATE_DIR: state,
    });
  } finally {
    await rm(state, { recursive: true, force: true });
  }
  const n = await poolBackends(lab);
  if (n < 3) throw new Error(`after add-node the pool lists ${n} backends, not 3`);
}

export async function ensureBenchLab(
  o: { base: number; labDir: string; keepLab: boolean },
  say: Say,
): Promise<BenchLab> {
  const lab = labLayout({ root: o.labDir, base: o.base });
  const quiet: Say = () => undefined;
  const wasUp = existsSync(lab.root) && (await labStatus(lab, quiet));
  let down = false;
  const teardown = async (s: Say): Promise<void> => {
    if (wasUp || o.keepLab || down) return;
    down = true;
    s(`tearing down the lab at base ${o.base} (${lab.root})`);
    await labDown(lab, quiet);
  };
  try {
    if (wasUp) say(`reusing the lab that is up at base ${o.base} (${lab.root})`);
    else {
      say(`bringing up a lab at base ${o.base} (${lab.root}) …`);
      await labUp(lab, quiet);
    }
    await ensureThirdNode(lab, say);
  } catch (err) {
    await teardown(say).catch(() => undefined); // leave nothing running behind a failed start
    throw err;
  }
  return { lab, wasUp, teardown };
}

/** The lab's long-lived processes whose trees the CPU profile measures. */
export async function labRoots(lab: LabLayout): Promise<Record<string, number[]>> {
  const postmaster = (dataDir: string): number[] => {
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? [pid] : [];
    } catch {
      return [];
    }
  };
  const sshds = await Promise.all(lab.hosts.map((h) => sshdPid(h)));
  const pool = await poolPid(lab);
  return {
    sshd: sshds.filter((p): p is number => p !== undefined),
    postgres: lab.hosts.flatMap((h) => postmaster(h.dataDir)),
    pgpool: pool === undefined ? [] : [pool],
  };
}
