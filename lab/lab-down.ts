import { existsSync } from 'node:fs';
import { readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabLayout } from './lab-layout';
import { isAlive, run, sleep } from './lab-exec';
import { PG_BIN } from './lab-packages';
import { poolPid, sshdPid } from './lab-up';
import { lookupUser, readState } from './lab-state';

// `npm run lab -- down`: stops what `up` started (by PID) and removes what it made, nothing else.

type Say = (line: string) => void;

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly uid: number;
  readonly cmdline: string;
}

export async function listProcesses(): Promise<Proc[]> {
  const procs: Proc[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).replace(/\0/g, ' ').trim();
      const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? -1);
      procs.push({ pid: Number(entry), ppid: field('PPid'), uid: field('Uid'), cmdline });
    } catch {
      // gone while we looked
    }
  }
  return procs;
}

const descendants = (procs: readonly Proc[], roots: readonly number[]): number[] => {
  const found = new Set<number>(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) {
      if (!found.has(p.pid) && found.has(p.ppid)) {
        found.add(p.pid);
        grew = true;
      }
    }
  }
  return [...found];
};

async function stopPids(pids: readonly number[], what: string, say: Say): Promise<void> {
  const alive = pids.filter(isAlive);
  if (alive.length === 0) return;
  for (const pid of alive) process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && alive.some(isAlive); i++) await sleep(100);
  const stubborn = alive.filter(isAlive);
  if (stubborn.length > 0) {
    say(`${what}: ${stubborn.length} process(es) ignored SIGTERM for 10 s, sending SIGKILL`);
    for (const pid of stubborn) process.kill(pid, 'SIGKILL');
  }
}

/** Processes of this lab: anything whose command line names the lab directory. */
export const labProcesses = async (lab: LabLayout): Promise<Proc[]> =>
  (await listProcesses()).filter((p) => p.pid !== process.pid && p.cmdline.includes(lab.root));

export async function labDown(lab: LabLayout, say: Say): Promise<void> {
  if (!existsSync(lab.root)) {
    say(`no lab at ${lab.root}: nothing to do`);
    return;
  }
  const state = await readState(lab);
  if (!state) {
    throw new Error(`${lab.root} has no lab-state.json: not removing a directory the lab did not make`);
  }
  const user = await lookupUser(lab.osUser);

  const pool = await poolPid(lab);
  if (pool) {
    say('stopping pgpool-II');
    await stopPids([pool], 'pgpool', say);
  }
  for (const host of lab.hosts) {
    if (user && existsSync(join(host.dataDir, 'postmaster.pid'))) {
      say(`stopping PostgreSQL on ${host.name}`);
      await run(join(PG_BIN, 'pg_ctl'), ['stop', '-D', host.dataDir, '-m', 'fast', '-w', '-t', '30'], {
        as: user,
        allowFailure: true,
      });
    }
  }
  // Open SSH sessions outlive their listener: stop the listener's whole process tree.
  const sshds = (await Promise.all(lab.hosts.map(sshdPid))).filter((p): p is number => p !== undefined);
  if (sshds.length > 0) {
    say(`stopping ${sshds.length} sshd`);
    await stopPids(descendants(await listProcesses(), sshds), 'sshd', say);
  }
  const leftovers = await labProcesses(lab);
  if (leftovers.length > 0) {
    say(`stopping ${leftovers.length} leftover lab process(es): ${leftovers.map((p) => p.pid).join(' ')}`);
    await stopPids(
      leftovers.map((p) => p.pid),
      'leftovers',
      say,
    );
  }

  await rm(lab.root, { recursive: true, force: true });
  say(`removed ${lab.root}`);

  if (state.createdUser && user) {
    const busy = (await listProcesses()).some((p) => p.uid === user.uid);
    if (busy) say(`kept OS user ${lab.osUser}: processes still run as it (another lab?)`);
    else {
      await run('userdel', ['--remove', lab.osUser], { allowFailure: true });
      say(`removed OS user ${lab.osUser}`);
    }
  }
  if (state.createdRunSshd) {
    // Shared with any other sshd: remove only if empty and no sshd is left.
    const sshdLeft = (await listProcesses()).some(
      (p) => p.cmdline.startsWith('/usr/sbin/sshd') || p.cmdline.startsWith('sshd'),
    );
    if (!sshdLeft) await rmdir('/run/sshd').catch(() => undefined);
  }
}
