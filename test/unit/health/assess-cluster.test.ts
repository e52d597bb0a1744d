import { assessCluster } from '../../../src/health/assess-cluster';
import type { LastRun } from '../../../src/health/report-model';
import type { ReportReading } from '../../../src/probes/report-reading';
import { GiB, MiB, node, poolNode, reading, streaming, THRESHOLDS, withNodes } from './report-fixtures';

const assess = (r: ReportReading, lastRuns: LastRun[] = [], previous?: 'green' | 'amber' | 'red') =>
  assessCluster({ reading: r, thresholds: THRESHOLDS, lastRuns, ...(previous && { previous }) });

const codes = (r: ReportReading) => assess(r).findings.map((f) => `${f.level} ${f.code} ${f.subject}`);

describe('assessCluster', () => {
  it('finds nothing in a healthy cluster: green, no worst finding', () => {
    const c = assess(reading());
    expect(c.level).toBe('green');
    expect(c.worst).toBeNull();
    expect(c.findings).toEqual([]);
    expect(c.greenAgain).toBe(false);
  });

  it('alarms an inactive slot holding WAL: amber under the limit, red above it, nothing when it holds none', () => {
    const slot = (retainedBytes: number | null) =>
      reading({
        slots: [
          { name: 'slot_old', type: 'physical', active: false, restartLsn: '0/1000000', retainedBytes },
        ],
      });
    expect(codes(slot(300 * MiB))).toEqual(['amber slot-inactive slot_old']);
    const red = assess(slot(2 * GiB));
    expect(red.level).toBe('red');
    expect(red.worst?.text).toBe(
      "slot slot_old is inactive and holds back 2.0 GiB of WAL on srv1 (limit 1.0 GiB): drop it if nothing will use it again, or srv1's disk fills",
    );
    expect(codes(slot(null))).toEqual([]);
    expect(codes(slot(0))).toEqual([]);
    const active = reading({
      slots: [
        { name: 'slot_busy', type: 'physical', active: true, restartLsn: '0/1', retainedBytes: 2 * GiB },
      ],
    });
    expect(codes(active)).toEqual(['amber slot-retains slot_busy']);
  });

  it('reports a stopped standby as red, once, with what the connection said', () => {
    const r = reading({
      nodes: withNodes(reading(), {
        srv3: {
          reachable: false,
          role: 'unknown',
          walPosition: null,
          problem: 'connect ECONNREFUSED 127.0.0.13:5432',
          timeline: null,
          disk: null,
          diskProblem: 'not read: the node does not answer',
        },
      }),
      replication: [streaming('srv2')],
      pools: [
        {
          ...reading().pools[0]!,
          poolNodes: [poolNode(0, 11), poolNode(1, 12), poolNode(2, 13, { status: 'down', roleStale: true })],
        },
      ],
    });
    const c = assess(r);
    expect(c.level).toBe('red');
    expect(codes(r)).toEqual(['red node-unreachable srv3']);
    expect(c.worst?.text).toBe(
      'srv3 (127.0.0.13:5432) does not answer: connect ECONNREFUSED 127.0.0.13:5432',
    );
  });

  it('says the pool is wrong when it marks a streaming standby down (amber) or the primary down (red)', () => {
    const pool = (n: number) => ({
      ...reading().pools[0]!,
      poolNodes: [poolNode(0, 11), poolNode(1, 12), poolNode(2, 13)].map((p) =>
        p.hostname === `127.0.0.${n}` ? { ...p, status: 'down', roleStale: true } : p,
      ),
    });
    const standby = assess(reading({ pools: [pool(13)] }));
    expect(standby.level).toBe('amber');
    expect(standby.worst).toEqual({
      level: 'amber',
      code: 'pool-says-down',
      subject: 'pool@srv1',
      text: 'the pool on srv1 says srv3 is down, but it streams: it gets no reads until attached again (pcp_attach_node 2)',
    });
    expect(codes(reading({ pools: [pool(11)] }))).toEqual(['red pool-says-down pool@srv1']);
  });

  it('grades lag in bytes and in seconds against warn and critical', () => {
    const lag = (lagBytes: number | null, delay = 0) =>
      reading({
        replication: [streaming('srv2', { lagBytes }), streaming('srv3')],
        nodes: withNodes(reading(), { srv2: { replayDelaySeconds: delay } }),
      });
    expect(codes(lag(15 * MiB))).toEqual([]);
    expect(codes(lag(40 * MiB))).toEqual(['amber lag-bytes srv2']);
    expect(assess(lag(40 * MiB)).worst?.text).toBe('srv2 is 40.0 MiB behind srv1 (amber from 16.0 MiB)');
    expect(codes(lag(300 * MiB))).toEqual(['red lag-bytes srv2']);
    expect(codes(lag(0, 45))).toEqual(['amber lag-seconds srv2']);
    expect(codes(lag(0, 301))).toEqual(['red lag-seconds srv2']);
    expect(codes(lag(null))).toEqual(['amber lag-unknown srv2']);
  });

  it('uses the primary replay_lag when the standby did not say its delay', () => {
    const r = reading({
      replication: [streaming('srv2', { lagSeconds: 400 }), streaming('srv3')],
      nodes: withNodes(reading(), { srv2: { replayDelaySeconds: null } }),
    });
    expect(codes(r)).toEqual(['red lag-seconds srv2']);
  });

  it('names a standby the primary does not stream to, with its timeline when it differs', () => {
    const r = reading({
      replication: [streaming('srv2')],
      nodes: withNodes(reading(), { srv3: { timeline: 1 }, srv1: { timeline: 2 }, srv2: { timeline: 2 } }),
    });
    const c = assess(r);
    expect(codes(r)).toEqual(['red standby-missing srv3']);
    expect(c.worst?.text).toBe(
      'srv3 is a standby, but srv1 does not stream to it (it is on timeline 1, the primary on 2: it may need a rewind)',
    );
    expect(
      codes(reading({ replication: [streaming('srv2'), streaming('srv3', { state: 'catchup' })] })),
    ).toEqual(['amber standby-not-streaming srv3']);
  });

  it('says the pool takes a standby for the primary (red), and compares its backends with the inventory', () => {
    const swapped = reading({
      pools: [
        {
          ...reading().pools[0]!,
          poolNodes: [
            poolNode(0, 11, { role: 'standby' }),
            poolNode(1, 12, { role: 'primary' }),
            poolNode(2, 13),
          ],
        },
      ],
    });
    expect(codes(swapped)).toEqual(['red pool-wrong-primary pool@srv1', 'red pool-wrong-primary pool@srv1']);
    const extra = reading({
      nodes: [...reading().nodes, node('srv4', 14, { inInventory: false })],
      replication: [streaming('srv2'), streaming('srv3'), streaming('srv4')],
      pools: [{ ...reading().pools[0]!, poolNodes: [poolNode(0, 11), poolNode(1, 12), poolNode(3, 14)] }],
    });
    expect(codes(extra)).toEqual(['amber pool-missing-node pool@srv1', 'amber pool-extra-backend srv4']);
  });

  it('is red without a primary, and amber when a pool cannot be read (red when none can)', () => {
    const none = reading({
      primary: null,
      nodes: withNodes(reading(), { srv1: { role: 'standby' } }),
      replication: null,
      replicationProblem: 'no node says it is the primary',
      slots: null,
      slotsProblem: 'no node says it is the primary',
      archiver: null,
      archiverProblem: 'no primary',
    });
    // The pool still takes srv1 for the primary: that is wrong too.
    expect(codes(none)).toEqual(['red no-primary lab', 'red pool-wrong-primary pool@srv1']);
    const silent = reading({
      pools: [
        {
          ...reading().pools[0]!,
          poolNodes: null,
          problem: 'pool on 127.0.0.11:9999 did not answer: timeout',
        },
      ],
    });
    expect(codes(silent)).toEqual(['red pool-unreachable pool@srv1']);
    const twoPools = reading({ pools: [...silent.pools, { ...reading().pools[0]!, node: 'srv2' }] });
    expect(codes(twoPools)).toEqual(['amber pool-unreachable pool@srv1']);
  });

  it('alarms WAL archiving that fails since its last success, and not one that recovered', () => {
    const archiver = (lastFailedAt: string) =>
      reading({
        archiver: {
          ...reading().archiver!,
          failedCount: 3,
          lastFailedWal: '000000010000000000000003',
          lastFailedAt,
        },
      });
    expect(codes(archiver('2026-12-01T23:59:00.000Z'))).toEqual(['red archive-failing srv1']);
    expect(codes(archiver('2026-12-01T23:00:00.000Z'))).toEqual([]);
    expect(codes(reading({ archiver: null, archiverProblem: 'permission denied' }))).toEqual([
      'amber archiver-unknown srv1',
    ]);
  });

  it('grades free disk against the limit (red) and twice the limit (amber); unknown disk is amber', () => {
    const disk = (freeGiB: number) =>
      reading({
        nodes: withNodes(reading(), {
          srv2: { disk: { path: '/d', totalBytes: 100 * GiB, freeBytes: freeGiB * GiB } },
        }),
      });
    expect(codes(disk(5))).toEqual(['red disk-low srv2']);
    expect(codes(disk(15))).toEqual(['amber disk-low srv2']);
    expect(codes(disk(25))).toEqual([]);
    const unknown = reading({
      nodes: withNodes(reading(), { srv2: { disk: null, diskProblem: 'ssh: connect refused' } }),
    });
    expect(codes(unknown)).toEqual(['amber disk-unknown srv2']);
  });

  it('shows a failed or interrupted last run as amber, and says green again once', () => {
    const run = (state: string): LastRun => ({
      runbook: 'some-runbook',
      runId: 'r1',
      state,
      endedAt: '2026-12-01T10:00:00.000Z',
      measures: [],
    });
    expect(assess(reading(), [run('failed')]).level).toBe('amber');
    expect(assess(reading(), [run('interrupted')]).level).toBe('amber');
    expect(assess(reading(), [run('succeeded'), run('rolled_back')]).level).toBe('green');
    expect(assess(reading(), [], 'amber').greenAgain).toBe(true);
    expect(assess(reading(), [], 'red').greenAgain).toBe(true);
    expect(assess(reading(), [], 'green').greenAgain).toBe(false);
    expect(assess(reading({ slots: null, slotsProblem: 'x' }), [], 'red').greenAgain).toBe(false);
  });

  it('puts red before amber, otherwise in reading order', () => {
    const r = reading({
      replication: [streaming('srv2', { lagBytes: 40 * MiB }), streaming('srv3')],
      nodes: withNodes(reading(), { srv3: { disk: { path: '/d', totalBytes: 100, freeBytes: 1 } } }),
    });
    expect(codes(r)).toEqual(['red disk-low srv3', 'amber lag-bytes srv2']);
  });
});
