import { parseDiskFree } from './host-probes';
import { argvProbe, failed, parsed, type ArgvProbe, type CommandOutput, type Parsed } from './probe';
import type { DiskFree } from './report-reading';

// Free space of a data directory's file system, for a health report. Unlike the preflight's probe
// (host-probes' diskFreeProbe, which measures the nearest existing ancestor of a directory not made
// yet), a data directory that is missing is a problem to report, not its parent's disk to measure.

export const dataDirDiskProbe = (dataDir: string): ArgvProbe => argvProbe('df', '-P', '-k', '--', dataDir);

export function parseDataDirDisk(out: CommandOutput, dataDir: string): Parsed<DiskFree> {
  if (out.exitCode !== 0) {
    const tail = (out.stderr.trim() || out.stdout.trim()).split('\n').slice(-2).join(' ');
    const how = out.exitCode === null ? 'was killed' : `exited ${out.exitCode}`;
    return failed(`df ${how}: ${tail || 'no output'}`);
  }
  const p = parseDiskFree(out, [dataDir]);
  if (!p.ok) return p;
  return parsed({ path: dataDir, totalBytes: p.value.totalBytes, freeBytes: p.value.availableBytes });
}
