import type { LabLayout } from '../../../lab/lab-layout';
import { labQuery } from '../../integration/support/lab-tools';

// Data on the primary so that a base backup takes a few seconds and reports progress part-way
// (the lab's database alone is copied in well under a second).

const TABLE = 'kbops_chaos_ballast';

export async function addBallast(lab: LabLayout, megabytes: number): Promise<void> {
  const at = { host: lab.hosts[0].address, port: lab.sqlPort };
  await labQuery(lab, at, `drop table if exists ${TABLE}`);
  await labQuery(lab, at, `create table ${TABLE} (v text) with (autovacuum_enabled = off)`);
  // ~1 kB a row: under the TOAST threshold, so stored (and copied) as is.
  await labQuery(
    lab,
    at,
    `insert into ${TABLE} select repeat(md5(r::text), 30) from generate_series(1, $1::int * 1024) r`,
    [megabytes],
  );
}

export async function dropBallast(lab: LabLayout): Promise<void> {
  await labQuery(lab, { host: lab.hosts[0].address, port: lab.sqlPort }, `drop table if exists ${TABLE}`);
}
