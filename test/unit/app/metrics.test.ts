import { composeRuns } from '../../../src/app/compose-runs';
import { KbopsMetrics, poolAgreements } from '../../../src/app/metrics';
import type { ClusterConfig, Inventory } from '../../../src/config/normalise-inventory';
import type { JournalEvent, Run, StoredEvent } from '../../../src/core/run';
import type { PoolNode } from '../../../src/probes/pool-nodes';
import type { ReportReading } from '../../../src/probes/report-reading';
import { claimed, planOf } from '../engine/executor-harness';
import { memoryRunStore } from '../engine/memory-run-store';
import {
  backend,
  clusterReport,
  node,
  pool,
  reading,
  report,
  slot,
  streaming,
} from './health-report-fixtures';

// The /metrics numbers from hand-built readings and events, read back from the exposition text as
// Prometheus would scrape it.

/** `name{labels}` → value, for one metric family, parsed from the exposition text. */
async function series(m: KbopsMetrics, name: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await m.text()).split('\n')) {
    const hit = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (hit?.[1] === name) out[hit[2] ?? ''] = Number(hit[3]);
  }
  return out;
}

const quiet = () => new KbopsMetrics({ processMetrics: false });

describe('KbopsMetrics from readings', () => {
  it('sets every gauge of a cluster, and leaves out what the reading does not know', async () => {
    const m = quiet();
    const srv13 = node('srv13', 'standby', { replayDelaySeconds: null });
    const r = reading('lab', {
      nodes: [
        node('srv11', 'primary'),
        node('srv12', 'standby', { replayDelaySeconds: 4.5 }),
        srv13,
        node('srv14', 'unknown', { reachable: false, replayDelaySeconds: null }),
      ],
      replication: [
        streaming('srv12', { lagBytes: 8192, sentLagBytes: 512 }),
        streaming('srv13', { lagBytes: null, sentLagBytes: null }),
      ],
      slots: [
        slot('slot_srv12', true, 8192),
        slot('slot_old', false, 3 * 1024 ** 3),
        slot('slot_new', false, null),
      ],
    });
    m.recordReport(report(clusterReport(r, 'amber')));

    expect(await series(m, 'kbops_replication_lag_bytes')).toEqual({
      '{cluster="lab",standby="srv12"}': 8192,
    });
    expect(await series(m, 'kbops_replication_sent_lag_bytes')).toEqual({
      '{cluster="lab",standby="srv12"}': 512,
    });
    expect(await series(m, 'kbops_replication_lag_seconds')).toEqual({
      '{cluster="lab",standby="srv12"}': 4.5,
    });
    expect(await series(m, 'kbops_slot_retained_bytes')).toEqual({
      '{cluster="lab",slot="slot_srv12",active="true"}': 8192,
      '{cluster="lab",slot="slot_old",active="false"}': 3 * 1024 ** 3,
    });
    expect(await series(m, 'kbops_node_up')).toEqual({
      '{cluster="lab",node="srv11"}': 1,
      '{cluster="lab",node="srv12"}': 1,
      '{cluster="lab",node="srv13"}': 1,
      '{cluster="lab",node="srv14"}': 0,
    });
    expect(await series(m, 'kbops_cluster_health_level')).toEqual({ '{cluster="lab"}': 1 });
    expect(await series(m, 'kbops_cluster_reading_timestamp_seconds')).toEqual({
      '{cluster="lab"}': Date.parse('2026-03-01T07:00:00.000Z') / 1000,
    });
  });

  it('replaces a cluster’s series when it is recorded again, and leaves other clusters alone', async () => {
    const m = quiet();
    const three = reading('lab', {
      nodes: [node('srv11', 'primary'), node('srv12', 'standby'), node('srv13', 'standby')],
      replication: [streaming('srv12', { lagBytes: 10 }), streaming('srv13', { lagBytes: 20 })],
      slots: [slot('slot_srv12', true, 10), slot('slot_srv13', true, 20)],
    });
    m.recordReport(report(clusterReport(three), clusterReport(reading('prod'), 'red')));
    expect(Object.keys(await series(m, 'kbops_replication_lag_bytes'))).toHaveLength(3);

    // srv13 dropped out of lab; prod is not in this report at all.
    m.recordReport(
      report(clusterReport(reading('lab', { replication: [streaming('srv12', { lagBytes: 30 })] }))),
    );
    expect(await series(m, 'kbops_replication_lag_bytes')).toEqual({
      '{cluster="lab",standby="srv12"}': 30,
      '{cluster="prod",standby="srv12"}': 0,
    });
    expect(Object.keys(await series(m, 'kbops_node_up'))).not.toContain('{cluster="lab",node="srv13"}');
    expect(Object.keys(await series(m, 'kbops_slot_retained_bytes'))).not.toContain(
      '{cluster="lab",slot="slot_srv13",active="true"}',
    );
    expect(await series(m, 'kbops_cluster_health_level')).toEqual({
      '{cluster="lab"}': 0,
      '{cluster="prod"}': 2,
    });
  });

  it('writes no lag at all when replication could not be read', async () => {
    const m = quiet();
    m.recordReport(report(clusterReport(reading('lab', { replication: null, slots: null }), 'red')));
    expect(await series(m, 'kbops_replication_lag_bytes')).toEqual({});
    expect(await series(m, 'kbops_slot_retained_bytes')).toEqual({});
    expect(await series(m, 'kbops_cluster_health_level')).toEqual({ '{cluster="lab"}': 2 });
  });

  it('keeps two bots’ registries apart', async () => {
    const a = quiet();
    const b = quiet();
    a.recordReport(report(clusterReport(reading('lab'))));
    expect(Object.keys(await series(a, 'kbops_node_up'))).toHaveLength(2);
    expect(await series(b, 'kbops_node_up')).toEqual({});
  });

  it('exposes the process metrics with the kbops_ prefix', async () => {
    const text = await new KbopsMetrics().text();
    expect(text).toMatch(/^kbops_process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^kbops_nodejs_heap_size_used_bytes \d/m);
  });
});

describe('pool/backend agreement', () => {
  const primary = node('srv11', 'primary');
  const standby = node('srv12', 'standby');
  const agreement = (poolNodes: PoolNode[], over: Partial<ReportReading> = {}) =>
    poolAgreements(reading('lab', { pools: [pool('srv11', poolNodes)], ...over })).map(
      (a) => `${a.pool}:${a.backend}=${a.agrees ? 1 : 0}`,
    );

  it('agrees when the pool shows the real primary and an up standby', () => {
    expect(
      agreement([backend(0, primary, 'up', 'primary'), backend(1, standby, 'waiting', 'standby')]),
    ).toEqual(['srv11:srv11=1', 'srv11:srv12=1']);
  });

  it('disagrees when the pool says down for a standby that streams, not for one that does not', () => {
    const pair = [backend(0, primary, 'up', 'primary'), backend(1, standby, 'down', 'standby')];
    expect(agreement(pair)).toEqual(['srv11:srv11=1', 'srv11:srv12=0']);
    expect(agreement(pair, { replication: [streaming('srv12', { state: 'catchup' })] })).toEqual([
      'srv11:srv11=1',
      'srv11:srv12=1',
    ]);
    // Whether it streams is unknown: no value rather than a guess.
    expect(agreement(pair, { replication: null })).toEqual(['srv11:srv11=1']);
  });

  it('disagrees on both backends when the pool’s primary is not the real one', () => {
    expect(agreement([backend(0, primary, 'up', 'standby'), backend(1, standby, 'up', 'primary')])).toEqual([
      'srv11:srv11=0',
      'srv11:srv12=0',
    ]);
    expect(agreement([backend(0, primary, 'down', 'primary'), backend(1, standby, 'up', 'slave')])).toEqual([
      'srv11:srv11=0',
      'srv11:srv12=1',
    ]);
  });

  it('leaves out backends it cannot judge: unknown host, unreachable node, unreadable pool', () => {
    const stranger = { ...backend(2, standby, 'up', 'standby'), hostname: '10.9.9.9' };
    const deadStandby = node('srv12', 'unknown', { reachable: false });
    expect(
      agreement([backend(0, primary, 'up', 'primary'), backend(1, deadStandby, 'up', 'standby'), stranger], {
        nodes: [primary, deadStandby],
      }),
    ).toEqual(['srv11:srv11=1']);
    expect(poolAgreements(reading('lab', { pools: [pool('srv11', null)] }))).toEqual([]);
  });

  it('matches a backend by host alone when its port differs and the host is unique', () => {
    expect(agreement([{ ...backend(0, primary, 'up', 'primary'), port: 5432 }])).toEqual(['srv11:srv11=1']);
  });

  it('becomes kbops_pool_backend_agrees per pool and backend', async () => {
    const m = quiet();
    const pools = [
      pool('srv11', [backend(0, primary, 'up', 'primary'), backend(1, standby, 'down', 'standby')]),
      pool('srv12', [backend(0, primary, 'up', 'primary'), backend(1, standby, 'up', 'standby')]),
    ];
    m.recordReport(report(clusterReport(reading('lab', { pools }), 'red')));
    expect(await series(m, 'kbops_pool_backend_agrees')).toEqual({
      '{cluster="lab",pool="srv11",backend="srv11"}': 1,
      '{cluster="lab",pool="srv11",backend="srv12"}': 0,
      '{cluster="lab",pool="srv12",backend="srv11"}': 1,
      '{cluster="lab",pool="srv12",backend="srv12"}': 1,
    });
  });
});

describe('KbopsMetrics counters', () => {
  const run = { plan: { runbook: { id: 'add-node', version: 1 } } } as unknown as Run;
  let id = 0;
  const stored = (event: JournalEvent): StoredEvent => ({
    id: ++id,
    at: '2026-03-01T07:00:00.000Z',
    runId: 'r1',
    cluster: 'lab',
    actor: 'kbops',
    event,
  });
  const state = (from: Run['state'], to: Run['state']) =>
    stored({ type: 'state', from, to, event: 'succeed' });
  const finished = (ok: boolean, phase: 'do' | 'undo' = 'do') =>
    stored({
      type: 'step-finished',
      index: 0,
      stepId: 's',
      phase,
      durationMs: 5,
      outcome: ok ? { ok } : { ok, kind: 'failure', failure: { code: 'x', message: 'x' } },
    });

  it('counts runs by the state they end in, and failed steps by runbook', async () => {
    const m = quiet();
    for (const e of [
      state('approved', 'running'),
      state('running', 'succeeded'),
      state('running', 'failed'),
      state('failed', 'rolling_back'),
      state('rolling_back', 'rolled_back'),
      state('running', 'interrupted'),
      state('running', 'succeeded'),
      finished(true),
      finished(false),
      finished(false, 'undo'),
    ])
      m.observeEvent(e, run);
    m.observeEvent(state('running', 'failed'), { plan: { runbook: { id: 'failover-test' } } } as Run);
    expect(await series(m, 'kbops_runs_finished_total')).toEqual({
      '{runbook="add-node",state="succeeded"}': 2,
      '{runbook="add-node",state="failed"}': 1,
      '{runbook="add-node",state="rolled_back"}': 1,
      '{runbook="failover-test",state="failed"}': 1,
    });
    expect(await series(m, 'kbops_step_failures_total')).toEqual({ '{runbook="add-node"}': 2 });
  });

  it('counts Slack 429s from zero', async () => {
    const m = quiet();
    expect(await series(m, 'kbops_slack_rate_limited_total')).toEqual({ '': 0 });
    m.rateLimited();
    m.rateLimited();
    expect(await series(m, 'kbops_slack_rate_limited_total')).toEqual({ '': 2 });
  });

  it('is fed by composeRuns’ onEvent on the notifier path, and a throwing observer harms nothing', async () => {
    const store = await memoryRunStore();
    try {
      const m = quiet();
      const told: string[] = [];
      const errors: string[] = [];
      const compose = (cluster: string, onEvent: (e: StoredEvent, r: Run) => void) =>
        composeRuns({
          // Nothing is connected to: the plans have no steps.
          inventory: { clusters: { [cluster]: {} as ClusterConfig } } as unknown as Inventory,
          env: {},
          store,
          groupsOf: () => [],
          notifier: { notify: (e) => told.push(e.event.type === 'state' ? e.event.to : e.event.type) },
          owner: 'test-owner',
          onError: (what) => errors.push(what),
          onEvent,
        });
      // A run with no steps: claimed (running), then succeeded by the executor.
      const first = await claimed(store, planOf([]), 'c');
      await compose(first.cluster, (e, r) => m.observeEvent(e, r)).executor.execute(first);
      expect(await series(m, 'kbops_runs_finished_total')).toEqual({
        '{runbook="test",state="succeeded"}': 1,
      });

      told.length = 0;
      const second = await claimed(store, planOf([]), 'c');
      const throwing = compose(second.cluster, () => {
        throw new Error('observer broke');
      });
      expect((await throwing.executor.execute(second)).state).toBe('succeeded');
      // The notifier was told every event (the lock released too), the observer's failures logged.
      expect(told).toEqual(['running', 'succeeded', 'lock']);
      expect(errors).toEqual(told.map(() => 'event observer'));
    } finally {
      await store.close();
    }
  });
});
