import type { ProgressReader } from '../../core/plan';

// pg_basebackup / sys_basebackup -P: "2079583/2079583 kB (100%), 1/1 tablespace"; with a terminal
// it separates updates with \r, so look at the last segment of a line.
const BASEBACKUP = /(\d+)\/(\d+) kB \((\d+)%\)/;

export const parseBasebackupProgress: ProgressReader = (line) => {
  const last =
    line
      .split('\r')
      .filter((s) => s.trim() !== '')
      .pop() ?? '';
  const m = BASEBACKUP.exec(last);
  return m ? { percent: Number(m[3]), message: last.trim() } : undefined;
};
