import { readFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import { listProcesses } from '../../../lab/lab-down';
import type { LabLayout } from '../../../lab/lab-layout';

// Remote commands that must never outlive their run: a base backup or a PCP call still running
// for this lab (its hosts share this machine's process table).

const TOOLS = /(^|[\s/])(pg_basebackup|sys_basebackup|pcp_[a-z_]+)(\s|$)/;

export async function leftoverProcesses(lab: LabLayout): Promise<string[]> {
  const addresses = [lab.poolAddress, ...lab.hosts.map((h) => h.address)].map((a) => a.replace(/\./g, '\\.'));
  const mine = new RegExp(`${addresses.map((a) => `${a}(?!\\d)`).join('|')}`);
  const out: string[] = [];
  for (const p of await listProcesses()) {
    if (p.pid === process.pid || !TOOLS.test(p.cmdline)) continue;
    const cwd = await readlink(`/proc/${p.pid}/cwd`).catch(() => '');
    if (p.cmdline.includes(lab.root) || cwd.startsWith(lab.root) || mine.test(p.cmdline)) {
      out.push(`${p.pid} (cwd ${cwd || '?'}): ${p.cmdline}`);
    }
  }
  return out;
}

/**
 * Whether the process still runs. A killed process whose parent was killed too stays a zombie until
 * init reaps it (in a container, maybe never): it runs nothing, holds nothing, and is not counted.
 */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
