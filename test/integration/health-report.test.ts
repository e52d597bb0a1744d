import type { HealthReport } from '../../src/health/report-model';
import { LAG_CHART_SIZE, MIB, renderLagChart, SERIES_COLOURS } from '../../src/render/lag-chart';
import { waitFor } from '../../lab/lab-exec';
import { keepStoreArtifacts } from '../support/store-artifacts';
import {
  codesOf,
  expectNodesRead,
  expectWorst,
  reportOne,
  type OneReport,
} from './support/health-report-expect';
import { chartPixels, samplesRead } from './support/lag-chart-pixels';
import {
  startHealthLab,
  withDeadNodes,
  type HealthLab,
  type ScheduleName,
} from './support/health-report-lab';
import { pcpNode, sqlOn, stopPostgres, waitPoolNode } from './support/lab-tools';
import {
  mendStandby,
  pauseReplay,
  reattach,
  resumeReplay,
  silentListener,
  slotRetained,
  waitActiveSlotsBelow,
  waitStandbys,
  writeWal,
} from './support/replication-workload';

// Acceptance of the replication health reports (issue 11) on a real lab of their own: PostgreSQL 15
// primary, two streaming standbys (the second added by kbops's add-node run), pgpool-II. A green
// report with real numbers; then an inactive slot holding WAL, a stopped standby, a standby the pool
// marks down while it streams, and a paused replay each give their line and thread detail, and the
// lab is mended and green again before the next; a dead host costs at most the per-node timeout;
// and the lag chart is a real PNG drawn from exactly the history the store kept.

const BASE = 180; // pool .180, hosts .181–.183; .184 and .185 serve as dead hosts
const KB = 1024;
let hl: HealthLab;
const lab = () => hl.lab;
const standbys = () => [lab().hosts[1], lab().hosts[2]] as const;
const timings: string[] = [];
const say = (line: string): void => void process.stderr.write(`[health-report] ${line}\n`);

beforeAll(async () => {
  hl = await startHealthLab(BASE, 'health-report');
  const { labUp, addNode } = hl.setupMs;
  timings.push(`lab up ${(labUp / 1000).toFixed(1)} s, add-node ${(addNode / 1000).toFixed(1)} s`);
}, 300_000);

afterAll(async () => {
  if (hl) await keepStoreArtifacts(hl.store, 'health-report');
  await hl?.stop();
  say(timings.join('; '));
}, 120_000);

/** Times a case, for the report of this file. */
const timed = (name: string, fn: () => Promise<void>) => async () => {
  const started = performance.now();
  try {
    await fn();
  } finally {
    timings.push(`${name} ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
};

const reportWith = (schedule: ScheduleName, cluster = hl.cluster, keepLag = false): Promise<OneReport> =>
  reportOne(hl.service(keepLag), cluster, hl.schedule(schedule));

/** The whole lab green, every node read with its numbers: where each case starts and ends. */
async function expectGreen(): Promise<OneReport> {
  const r = await reportWith('morning');
  expect(codesOf(r.c)).toEqual([]);
  expect(r.c.level).toBe('green');
  await expectNodesRead(lab(), r.c, ['srv181', 'srv182', 'srv183']);
  return r;
}

it(
  'everything green: no finding, and the real numbers (lag bytes, timelines, disk, last run)',
  timed('green', async () => {
    await waitStandbys(lab(), standbys(), 'replayed');
    const r = await expectGreen();
    const rep = r.c.reading.replication!;
    expect(rep.map((e) => [e.applicationName, e.state]).sort()).toEqual([
      ['srv182', 'streaming'],
      ['srv183', 'streaming'],
    ]);
    for (const e of rep) {
      expect(e.lagBytes).toEqual(expect.any(Number));
      expect(e.lagBytes!).toBeGreaterThanOrEqual(0);
      expect(e.lagBytes!).toBeLessThan(hl.schedule('morning').thresholds.lagBytes.warn);
    }
    // The primary's own slot (as V8R3's installer makes it) reserves nothing: no WAL held, no finding.
    expect(r.c.reading.slots?.map((s) => [s.name, s.active, s.retainedBytes === null])).toEqual([
      ['slot_srv181', false, true],
      ['slot_srv182', true, false],
      ['slot_srv183', true, false],
    ]);
    expect(r.c.reading.pools[0]!.poolNodes!.map((p) => [p.hostname, p.status])).toEqual(
      lab().hosts.map((h) => [h.address, 'up']),
    );
    expect(r.c.lastRuns).toEqual([expect.objectContaining({ runbook: 'add-node', state: 'succeeded' })]);
    expect(r.root).toMatch(/ · 1 green\n/);
    expect(r.root).toMatch(
      /:large_green_circle: \*lab\* 3 nodes, 2 standbys streaming, largest lag \d+(\.\d)? (B|KiB)\b/,
    );
    say(
      `green: ${r.ms.toFixed(0)} ms; ${JSON.stringify(r.c.reading.nodes.map((n) => [n.name, n.timeline, n.replayDelaySeconds, n.disk?.freeBytes]))}; lag ${rep.map((e) => e.lagBytes).join(', ')} B`,
    );
  }),
  120_000,
);

it(
  'an inactive slot retaining WAL: amber under the limit, red above it',
  timed('inactive slot', async () => {
    const slot = 'kbops_report_held';
    // A fresh checkpoint first: a reserving slot starts at the last checkpoint's redo position.
    await sqlOn(lab(), lab().hosts[0], 'checkpoint');
    await sqlOn(lab(), lab().hosts[0], 'select pg_create_physical_replication_slot($1, true)', [slot]);
    try {
      const readHeld = async (what: ScheduleName) => {
        await waitStandbys(lab(), standbys(), 'replayed');
        await waitActiveSlotsBelow(lab(), 256n * BigInt(KB));
        const before = (await slotRetained(lab())).get(slot)!;
        const r = await reportWith(what);
        const after = (await slotRetained(lab())).get(slot)!;
        const held = r.c.reading.slots!.find((s) => s.name === slot)!;
        expect(held.active).toBe(false);
        expect(BigInt(held.retainedBytes!)).toBeGreaterThanOrEqual(before.bytes);
        expect(BigInt(held.retainedBytes!)).toBeLessThanOrEqual(after.bytes);
        return { r, held: held.retainedBytes! };
      };
      await writeWal(lab(), 64 * KB);
      const a = await readHeld('slots');
      expect(a.held).toBeGreaterThan(0);
      expect(a.held).toBeLessThanOrEqual(1024 * KB);
      expect(codesOf(a.r.c)).toEqual([['slot-inactive', slot, 'amber']]);
      const f = expectWorst(a.r, 'amber', { code: 'slot-inactive', subject: slot });
      expect(f.text).toMatch(
        new RegExp(`^slot ${slot} is inactive and holds back .* of WAL on srv181 \\(limit 1\\.0 MiB\\)`),
      );

      // A segment switch and more writes: past the limit.
      await sqlOn(lab(), lab().hosts[0], 'select pg_switch_wal()');
      await writeWal(lab(), 512 * KB);
      const b = await readHeld('slots');
      expect(b.held).toBeGreaterThan(1024 * KB);
      expect(codesOf(b.r.c)).toEqual([['slot-inactive', slot, 'red']]);
      expectWorst(b.r, 'red', { code: 'slot-inactive', subject: slot });
      say(
        `slot: held ${a.held} B (amber), then ${b.held} B (red), reports ${a.r.ms.toFixed(0)}/${b.r.ms.toFixed(0)} ms`,
      );
    } finally {
      await sqlOn(lab(), lab().hosts[0], 'select pg_drop_replication_slot($1)', [slot]);
    }
    await expectGreen();
  }),
  120_000,
);

it(
  'a stopped standby: red node-unreachable, and nothing pretends it is fine',
  timed('stopped standby', async () => {
    const srv182 = lab().hosts[1];
    await stopPostgres(lab(), srv182);
    try {
      // pgpool's health check detaches it: read once the pool has seen it, so the pool answers steadily.
      await waitPoolNode(lab(), 1, ['down']);
      const r = await reportWith('morning');
      const f = expectWorst(r, 'red', { code: 'node-unreachable', subject: 'srv182' });
      expect(f.text).toMatch(/^srv182 \(127\.0\.0\.182:54321\) does not answer: .*ECONNREFUSED/);
      // The only other truth worth telling: its slot, now inactive, may hold WAL back.
      for (const [code, subject] of codesOf(r.c).slice(1))
        expect([code, subject]).toEqual(['slot-inactive', 'slot_srv182']);
      const n = r.c.reading.nodes.find((x) => x.name === 'srv182')!;
      expect(n).toMatchObject({
        reachable: false,
        role: 'unknown',
        timeline: null,
        replayDelaySeconds: null,
      });
      // Its host still answers SSH: the disk is read, the database is not.
      expect(n.disk?.path).toBe(srv182.dataDir);
      expect(r.c.reading.replication?.map((e) => e.applicationName)).toEqual(['srv183']);
      // No role, no timeline, no lag or delay: only what SSH still reads (its disk).
      expect(r.thread).toMatch(/srv182 +no answer +\? +\? +\? +\d/);
      expect(r.thread).not.toMatch(/srv182 +standby/);
      await expectNodesRead(lab(), r.c, ['srv181', 'srv183']);
      say(`stopped standby: report ${r.ms.toFixed(0)} ms, findings ${JSON.stringify(codesOf(r.c))}`);
    } finally {
      await mendStandby(lab(), srv182);
    }
    await waitStandbys(lab(), standbys(), 'replayed');
    await expectGreen();
  }),
  120_000,
);

it(
  'a standby the pool marks down while it streams: amber pool-says-down',
  timed('pool says down', async () => {
    await pcpNode(lab(), 'detach', 1);
    try {
      await waitPoolNode(lab(), 1, ['down']);
      const r = await reportWith('morning');
      expect(codesOf(r.c)).toEqual([['pool-says-down', 'pool@srv181', 'amber']]);
      const f = expectWorst(r, 'amber', { code: 'pool-says-down', subject: 'pool@srv181' });
      expect(f.text).toBe(
        'the pool on srv181 says srv182 is down, but it streams: it gets no reads until attached again (pcp_attach_node 1)',
      );
      // The databases' truth beside it: srv182 answers and streams.
      await expectNodesRead(lab(), r.c, ['srv181', 'srv182', 'srv183']);
      expect(r.c.reading.replication?.find((e) => e.applicationName === 'srv182')?.state).toBe('streaming');
      say(`pool says down: report ${r.ms.toFixed(0)} ms`);
    } finally {
      await reattach(lab(), 1);
    }
    await expectGreen();
  }),
  120_000,
);

it(
  'replay paused while the primary writes: lag-bytes amber, then red, and the replay delay grows',
  timed('lag', async () => {
    const [srv182, srv183] = standbys();
    // A write srv182 replays just before the pause: its replay delay counts from it.
    await writeWal(lab(), 8 * KB);
    await waitStandbys(lab(), standbys(), 'replayed');
    await pauseReplay(lab(), srv182);
    try {
      const read = async (bytes: number) => {
        await writeWal(lab(), bytes);
        await waitStandbys(lab(), standbys(), 'flushed');
        await waitStandbys(lab(), [srv183], 'replayed');
        const r = await reportWith('lag');
        const e = r.c.reading.replication!.find((x) => x.applicationName === 'srv182')!;
        const delay = r.c.reading.nodes.find((x) => x.name === 'srv182')!.replayDelaySeconds!;
        expect(
          r.c.reading.replication!.find((x) => x.applicationName === srv183.name)!.lagBytes!,
        ).toBeLessThan(1024 * KB);
        // Only srv182 lags; its delay, past 30 s on a slow machine, is told too.
        for (const [code, subject] of codesOf(r.c))
          expect([code, subject]).toEqual([expect.stringMatching(/^lag-(bytes|seconds)$/), 'srv182']);
        return { r, lag: e.lagBytes!, delay };
      };
      const a = await read(2 * 1024 * KB);
      expect(a.lag).toBeGreaterThanOrEqual(1024 * KB);
      expect(a.lag).toBeLessThan(8 * 1024 * KB);
      const f = expectWorst(a.r, 'amber', { code: 'lag-bytes', subject: 'srv182' });
      expect(f.text).toMatch(/^srv182 is \d+\.\d MiB behind srv181 \(amber from 1\.0 MiB\)$/);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const b = await read(8 * 1024 * KB);
      expect(b.lag).toBeGreaterThanOrEqual(8 * 1024 * KB);
      expectWorst(b.r, 'red', { code: 'lag-bytes', subject: 'srv182' });
      // The delay counts from the last replayed commit: it grows as the wall clock between the readings.
      const between = (Date.parse(b.r.c.reading.readAt) - Date.parse(a.r.c.reading.readAt)) / 1000;
      expect(b.delay).toBeGreaterThan(a.delay);
      expect(Math.abs(b.delay - a.delay - between)).toBeLessThan(1.5);
      say(`lag: ${a.lag} B / ${a.delay.toFixed(2)} s (amber), ${b.lag} B / ${b.delay.toFixed(2)} s (red)`);
    } finally {
      await resumeReplay(lab(), srv182);
      await waitStandbys(lab(), standbys(), 'replayed');
    }
    await expectGreen();
  }),
  120_000,
);

it(
  'dead hosts cost at most the per-node timeout, are unreachable, and the rest is complete',
  timed('dead hosts', async () => {
    const silent = await silentListener('127.0.0.185');
    try {
      const cluster = withDeadNodes(hl.cluster, [
        { name: 'srv184', host: '127.0.0.184' },
        { name: 'srv185', host: '127.0.0.185', port: silent.port },
      ]);
      const schedule = hl.schedule('dead-host');
      expect(schedule.nodeTimeoutMs).toBe(3000);
      const r = await reportWith('dead-host', cluster);
      say(
        `dead hosts: report ${r.ms.toFixed(0)} ms (timeout 3 s), nodes ${r.c.reading.nodes.map((n) => `${n.name} ${n.readMs} ms`).join(', ')}`,
      );
      expect(r.ms).toBeLessThan(3000 + 2000);
      expect(codesOf(r.c)).toEqual([
        ['node-unreachable', 'srv184', 'red'],
        ['node-unreachable', 'srv185', 'red'],
        // True as well: neither is a backend of the pool.
        ['pool-missing-node', 'pool@srv181', 'amber'],
        ['pool-missing-node', 'pool@srv181', 'amber'],
      ]);
      expectWorst(r, 'red', { code: 'node-unreachable', subject: 'srv184' });
      expect(r.root).toContain('_(+3 more in the thread)_');
      const [refused, silentNode] = r.c.reading.nodes.slice(3);
      expect(refused).toMatchObject({
        reachable: false,
        role: 'unknown',
        problem: expect.stringContaining('ECONNREFUSED'),
      });
      expect(silentNode).toMatchObject({
        reachable: false,
        role: 'unknown',
        problem: 'did not answer within 3 s',
        disk: null,
      });
      expect(silentNode!.readMs).toBeGreaterThanOrEqual(2950);
      expect(silentNode!.readMs).toBeLessThan(4000);
      expect(r.thread).toMatch(/srv185 +no answer +\? +\? +\? +\?/);
      // The rest of the report is complete.
      await expectNodesRead(lab(), r.c, ['srv181', 'srv182', 'srv183']);
      expect(r.c.reading.replication?.map((e) => [e.applicationName, e.state]).sort()).toEqual([
        ['srv182', 'streaming'],
        ['srv183', 'streaming'],
      ]);
      expect(r.c.reading.slots?.map((s) => s.name)).toEqual(['slot_srv181', 'slot_srv182', 'slot_srv183']);
      expect(r.c.reading.pools[0]!.poolNodes).toHaveLength(3);
      // The report closed what it opened: the hung host holds no connection of kbops any more.
      await waitFor('the silent listener to lose every connection', () => silent.sockets.size === 0, 1000);
    } finally {
      await silent.close();
    }
  }),
  60_000,
);

it(
  'the lag chart: five reports into the store, lagHistory is what they read, the PNG is drawn from it',
  timed('lag chart', async () => {
    const [srv182] = standbys();
    const service = hl.service(true);
    const schedule = hl.schedule('lag');
    await waitStandbys(lab(), standbys(), 'replayed');
    await pauseReplay(lab(), srv182);
    const reports: HealthReport[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        await writeWal(lab(), 400 * KB);
        await waitStandbys(lab(), standbys(), 'flushed');
        reports.push(await service.report({ clusters: [hl.cluster], schedule }));
      }
    } finally {
      await resumeReplay(lab(), srv182);
      await waitStandbys(lab(), standbys(), 'replayed');
    }
    const history = await service.lagHistory('lab');
    expect(history).toEqual(samplesRead(reports));
    const lags = history.filter((s) => s.standby === 'srv182').map((s) => s.lagBytes!);
    expect(lags).toHaveLength(5);
    for (let i = 1; i < 5; i++) expect(lags[i]!).toBeGreaterThan(lags[i - 1]!); // paused: it only grows
    expect(history.filter((s) => s.standby === 'srv183')).toHaveLength(5);

    const to = new Date();
    const chart = await renderLagChart({
      cluster: 'lab',
      samples: history,
      from: new Date(to.getTime() - 24 * 3600_000),
      to,
      timezone: 'UTC',
      thresholds: schedule.thresholds.lagBytes,
    });
    // The chart's data are the stored samples, series by standby.
    const datasets = chart.spec.data.datasets;
    expect(datasets.map((d) => d.label)).toEqual(['srv182', 'srv183']);
    for (const d of datasets)
      expect(d.data).toEqual(
        history
          .filter((s) => s.standby === d.label)
          .map((s) => ({ x: Date.parse(s.at), y: s.lagBytes! / MIB, at: s.at, lagBytes: s.lagBytes })),
      );
    // A real PNG of the size it says, not blank, with srv182's line where its samples are: the last
    // seconds of a 24 h axis are its right edge.
    const px = chartPixels(chart, SERIES_COLOURS[0]);
    expect([px.width, px.height]).toEqual([chart.width, chart.height]);
    expect([px.width, px.height]).toEqual([LAG_CHART_SIZE.width, LAG_CHART_SIZE.height]);
    expect(px.inked).toBeGreaterThan(px.width * px.height * 0.01);
    const { xs, ys } = px.series;
    expect(xs.length).toBeGreaterThan(20);
    expect(Math.min(...xs)).toBeGreaterThan(chart.plotArea.right - 6);
    // The y axis starts at 0: the line's ends stand above it in the ratio of the first and last lag.
    const bottom = chart.plotArea.bottom;
    const drawn = (bottom - Math.min(...ys)) / (bottom - Math.max(...ys));
    expect(Math.abs(drawn / (lags[4]! / lags[0]!) - 1)).toBeLessThan(0.1);
    say(
      `lag chart: srv182 ${lags.join(', ')} B; ${chart.png.length} B PNG, ${px.inked} inked px, srv182 drawn ${drawn.toFixed(2)}× from first to last`,
    );
  }),
  120_000,
);
