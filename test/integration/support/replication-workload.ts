import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { sleep, waitFor } from '../../../lab/lab-exec';
import type { LabHost, LabLayout } from '../../../lab/lab-layout';
import { pcpNode, poolNodes, sqlOn, startPostgres, waitPoolNode, waitStreaming } from './lab-tools';

// Replication made to misbehave on purpose, by the numbers: WAL written on the primary, a standby's
// replay paused, a slot that holds WAL back, and what the primary itself says about each (so a
// report's numbers are compared with an independent reading, not with themselves), and the way back.

const FILL_TABLE = 'kbops_report_fill';

/** Writes about `bytes` of WAL on the primary (hosts[0]): rows of 960 random hex characters. */
export async function writeWal(lab: LabLayout, bytes: number): Promise<void> {
  const primary = lab.hosts[0];
  await sqlOn(lab, primary, `create table if not exists ${FILL_TABLE} (id bigserial primary key, pad text)`);
  // Random text, so nothing compresses: about 1 kB of WAL per row.
  await sqlOn(
    lab,
    primary,
    `insert into ${FILL_TABLE} (pad)
     select (select string_agg(md5(random()::text || g::text || s::text), '') from generate_series(1, 30) s)
     from generate_series(1, $1::int) g`,
    [Math.max(1, Math.ceil(bytes / 1000))],
  );
}

/** Empties the fill table, so the lab does not grow from case to case. */
export const truncateFill = (lab: LabLayout): Promise<unknown> =>
  sqlOn(lab, lab.hosts[0], `drop table if exists ${FILL_TABLE}`);

/** The primary's current WAL position, as a byte number. */
export async function currentLsnBytes(lab: LabLayout): Promise<bigint> {
  const [row] = await sqlOn<{ b: string }>(
    lab,
    lab.hosts[0],
    "select (pg_current_wal_lsn() - '0/0'::pg_lsn)::text as b",
  );
  return BigInt(row!.b);
}

interface ReplicationRow extends Record<string, unknown> {
  readonly name: string;
  readonly state: string;
  readonly flushed: string | null;
  readonly replayed: string | null;
}

/** pg_stat_replication on the primary: positions as byte numbers (text, exact). */
async function replicationRows(lab: LabLayout): Promise<ReplicationRow[]> {
  return sqlOn<ReplicationRow>(
    lab,
    lab.hosts[0],
    `select application_name as name, state,
            (flush_lsn - '0/0'::pg_lsn)::text as flushed, (replay_lsn - '0/0'::pg_lsn)::text as replayed
     from pg_stat_replication order by 1`,
  );
}

/** Waits until each standby has flushed (`what: 'flushed'`) or replayed everything up to now. */
export async function waitStandbys(
  lab: LabLayout,
  standbys: readonly LabHost[],
  what: 'flushed' | 'replayed',
): Promise<void> {
  const target = await currentLsnBytes(lab);
  await waitFor(`${standbys.map((s) => s.name).join(', ')} ${what} up to ${target}`, async () => {
    const rows = await replicationRows(lab).catch(() => []);
    return standbys.every((s) => {
      const r = rows.find((x) => x.name === s.name);
      const at = r?.[what];
      return r?.state === 'streaming' && typeof at === 'string' && BigInt(at) >= target;
    });
  });
}

/** Every physical slot's retained WAL on the primary, by name (the primary's own arithmetic). */
export async function slotRetained(lab: LabLayout): Promise<Map<string, { active: boolean; bytes: bigint }>> {
  const rows = await sqlOn<{ name: string; active: boolean; bytes: string | null }>(
    lab,
    lab.hosts[0],
    `select slot_name as name, active, (pg_current_wal_lsn() - restart_lsn)::text as bytes
     from pg_replication_slots order by 1`,
  );
  return new Map(rows.map((r) => [r.name, { active: r.active, bytes: BigInt(r.bytes ?? '-1') }]));
}

/** Waits until the active slots (the streaming standbys') hold back less than `bytes`. */
export async function waitActiveSlotsBelow(lab: LabLayout, bytes: bigint): Promise<void> {
  await waitFor(`active slots below ${bytes} bytes`, async () =>
    [...(await slotRetained(lab)).values()].every((s) => !s.active || (s.bytes >= 0n && s.bytes < bytes)),
  );
}

export async function pauseReplay(lab: LabLayout, standby: LabHost): Promise<void> {
  await sqlOn(lab, standby, 'select pg_wal_replay_pause()');
  await waitFor(`${standby.name} replay paused`, async () => {
    const [row] = await sqlOn<{ s: string }>(lab, standby, 'select pg_get_wal_replay_pause_state() as s');
    return row?.s === 'paused';
  });
}

export async function resumeReplay(lab: LabLayout, standby: LabHost): Promise<void> {
  await sqlOn(lab, standby, 'select pg_wal_replay_resume()');
}

export interface SilentListener {
  readonly port: number;
  /** Connections accepted and still open. */
  readonly sockets: ReadonlySet<Socket>;
  close(): Promise<void>;
}

/** A TCP listener that accepts every connection and never sends a byte (a hung host). */
export async function silentListener(address: string): Promise<SilentListener> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.resume(); // read and drop, so the client's end (and its close) is seen
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, address, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** After an attach pgpool restarts its children: waits until it answers steadily with every backend up. */
export async function waitPoolSettled(lab: LabLayout, backends: number): Promise<void> {
  let steady = 0;
  await waitFor(`pgpool answering with ${backends} backends up`, async () => {
    const rows = await poolNodes(lab);
    steady = rows?.length === backends && rows.every((r) => r.status === 'up') ? steady + 1 : 0;
    if (steady < 3) await sleep(100);
    return steady >= 3;
  });
}

/** Attaches pool backend `nodeId` again (when the pool has it down) and waits for a settled pool. */
export async function reattach(lab: LabLayout, nodeId: number): Promise<void> {
  if ((await poolNodes(lab))?.find((p) => Number(p.node_id) === nodeId)?.status === 'down')
    await pcpNode(lab, 'attach', nodeId);
  await waitPoolNode(lab, nodeId, ['up']);
  await waitPoolSettled(lab, lab.hosts.length);
}

/** A stopped standby started, streaming and attached again: as it was. */
export async function mendStandby(lab: LabLayout, host: LabHost): Promise<void> {
  await startPostgres(lab, host);
  await waitStreaming(lab, host);
  await reattach(lab, host.index);
}
