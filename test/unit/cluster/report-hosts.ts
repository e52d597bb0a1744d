import { fixtureRows } from '../probes/fixture';
import type { Answer } from './health-connector';
import { exited, ReportConnector } from './report-connector';

// The hosts of read-report-reading.test.ts: a two-node cluster (srv11 primary, srv12 standby, a
// pool on 127.0.0.10) answering every question a health report asks, in either dialect.

export const ARCHIVER = {
  archived_count: '41',
  last_archived_wal: '000000010000000000000003',
  last_archived_epoch: '1795220100',
  failed_count: '2',
  last_failed_wal: '000000010000000000000004',
  last_failed_epoch: '1795220160.5',
  archive_mode: 'on',
};
export const poolRow = (id: number, host: string, role: string) => ({
  node_id: String(id),
  hostname: host,
  port: '54321',
  status: 'up',
  lb_weight: '0.5',
  role,
});
export const POOL = [poolRow(0, '127.0.0.11', 'primary'), poolRow(1, '127.0.0.12', 'standby')];
export const df = (totalKb: number, availKb: number) =>
  exited(
    0,
    `Filesystem     1024-blocks     Used Available Capacity Mounted on\n` +
      `/dev/vda1      ${totalKb} ${totalKb - availKb} ${availKb} 50% /\n`,
  );

export interface NodeOptions {
  replication?: Record<string, unknown>[];
  at?: string;
  timeline?: number;
  replay?: Record<string, unknown>;
}

/** A node answering as a primary or a standby, every question a report asks. */
export function node(role: 'primary' | 'standby', o: NodeOptions = {}): Answer {
  const at = o.at ?? '0/4000300';
  return (sql) => {
    if (sql.includes('as in_recovery'))
      return [{ in_recovery: role === 'standby', position: role === 'primary' ? at : '0/40001C0' }];
    if (/from (pg|sys)_control_checkpoint\(\)$/.test(sql)) return [{ timeline_id: o.timeline ?? 1 }];
    if (sql.includes('as replay_age_seconds'))
      return [o.replay ?? { received: '0/40001C0', replayed: '0/40001C0', replay_age_seconds: '3600.5' }];
    if (sql.startsWith('select * from') && sql.includes('stat_replication'))
      return o.replication ?? fixtureRows('pg15/replication.txt');
    if (sql.includes('replay_lag_seconds')) return [{ pid: '17135', replay_lag_seconds: '0.112489' }];
    if (/current_(wal_lsn|xlog_location)\(\) as position/.test(sql)) return [{ position: at }];
    if (sql.includes('replication_slots')) return fixtureRows('pg15/slots-primary.txt');
    if (sql.includes('stat_archiver')) return [ARCHIVER];
    throw new Error(`unexpected query ${sql}`);
  };
}

/** A healthy cluster: srv11 primary, srv12 its standby, the pool agreeing, df on both. */
export function healthy(): ReportConnector {
  const c = new ReportConnector();
  c.answers.set('srv11', node('primary'));
  c.answers.set('srv12', node('standby'));
  c.answers.set('pool-srv11', () => POOL);
  c.shellAnswers.set('srv11', () => df(1000, 400));
  c.shellAnswers.set('srv12', () => df(2000, 1500));
  return c;
}
