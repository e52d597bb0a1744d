import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { DEFAULT_THRESHOLDS } from '../../../src/core/health-levels';
import { formatProblems, loadInventory, parseInventory } from '../../../src/config/load-inventory';
import type { Inventory } from '../../../src/config/normalise-inventory';
import { parseByteSize, reportSettingsFor } from '../../../src/config/report-schedules';

const EXAMPLE = join(__dirname, '../../../src/config/example-inventory.yaml');
const MB = 1024 ** 2;
const GB = 1024 ** 3;

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Doc = { clusters: Record<string, Obj>; reports?: Record<string, Obj> };

const env = { KBOPS_ESHA_DB_PASSWORD: 'x' };

/** The example inventory, with a second cluster DR (a copy of ESHA) so that "every cluster" means two. */
function example(): Doc {
  const doc = parse(readFileSync(EXAMPLE, 'utf8')) as Doc;
  doc.clusters.DR = structuredClone(doc.clusters.ESHA!);
  return doc;
}

async function load(doc: Doc): Promise<Inventory> {
  const r = await parseInventory(stringify(doc), 'test', { env, checkFiles: false });
  if (!r.ok) throw new Error(formatProblems(r.problems));
  return r.inventory;
}

async function problems(doc: Doc) {
  const r = await parseInventory(stringify(doc), 'test', { env, checkFiles: false });
  if (r.ok) throw new Error('expected the inventory to be refused');
  return r.problems;
}

describe('report schedules in the inventory', () => {
  it("normalises the example's schedule", async () => {
    const r = await loadInventory(EXAMPLE, { env, checkFiles: false });
    if (!r.ok) throw new Error(formatProblems(r.problems));
    expect(r.inventory.reports).toEqual([
      {
        name: 'morning',
        cron: '0 8 * * 1-5',
        timezone: 'Asia/Shanghai',
        channel: 'C0123ABCD',
        clusters: ['ESHA'],
        mention: 'S0123ABCD',
        lateLimitMinutes: 60,
        charts: 'problems',
        nodeTimeoutMs: 10_000,
        thresholds: {
          lagBytes: { warn: 16 * MB, critical: 256 * MB },
          lagSeconds: { warn: 30, critical: 300 },
          slotRetainedBytes: GB,
          minFreeDiskPercent: 10,
        },
      },
    ]);
  });

  it('is an empty list when the inventory has no reports', async () => {
    const doc = example();
    delete doc.reports;
    expect((await load(doc)).reports).toEqual([]);
  });

  it('fills every default of a schedule that gives only cron and channel', async () => {
    const doc = example();
    doc.reports = { nightly: { cron: '  30   2 * * * ', channel: 'C0999ZZZZ' } };
    const [s, ...rest] = (await load(doc)).reports;
    expect(rest).toEqual([]);
    expect(s).toEqual({
      name: 'nightly',
      cron: '30 2 * * *',
      timezone: 'UTC',
      channel: 'C0999ZZZZ',
      clusters: ['ESHA', 'DR'],
      lateLimitMinutes: 60,
      charts: 'problems',
      nodeTimeoutMs: 10_000,
      thresholds: DEFAULT_THRESHOLDS,
    });
    expect(s).not.toHaveProperty('mention');
  });

  it('keeps the listed clusters in their order, and takes each threshold part on its own', async () => {
    const doc = example();
    doc.reports = {
      dr: {
        cron: '*/15 * * * *',
        channel: 'G0123ABCD',
        clusters: ['DR', 'ESHA'],
        charts: 'all',
        lateLimitMinutes: 0,
        nodeTimeoutSeconds: 120,
        thresholds: {
          lagBytes: { warn: '512kB' },
          lagSeconds: { critical: 600 },
          slotRetainedBytes: '1.5 GB',
        },
      },
    };
    const [s] = (await load(doc)).reports;
    expect(s).toMatchObject({
      clusters: ['DR', 'ESHA'],
      charts: 'all',
      lateLimitMinutes: 0,
      nodeTimeoutMs: 120_000,
      thresholds: {
        lagBytes: { warn: 512 * 1024, critical: DEFAULT_THRESHOLDS.lagBytes.critical },
        lagSeconds: { warn: DEFAULT_THRESHOLDS.lagSeconds.warn, critical: 600 },
        slotRetainedBytes: 1.5 * GB,
        minFreeDiskPercent: DEFAULT_THRESHOLDS.minFreeDiskPercent,
      },
    });
  });
});

describe('parseByteSize', () => {
  it.each([
    [0, 0],
    [4096, 4096],
    ['4096', 4096],
    ['100B', 100],
    ['512kB', 512 * 1024],
    ['16MB', 16 * MB],
    ['16 MB', 16 * MB],
    ['1GB', GB],
    ['1TB', 1024 * GB],
    ['0.5MB', MB / 2],
  ])('reads %p as %p bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each([['16mb'], ['1KB'], ['1PB'], ['MB'], ['-1MB'], [-1], [1.5], [''], [true], [null], ['1e3']])(
    'refuses %p',
    (value) => {
      expect(parseByteSize(value)).toBeUndefined();
    },
  );
});

type Case = [name: string, mutate: (s: Obj, doc: Doc) => void, path: string, message: string];

const cases: Case[] = [
  [
    'a seconds field',
    (s) => (s.cron = '0 0 8 * * *'),
    'reports.morning.cron',
    'cron "0 0 8 * * *" has 6 fields, but reports are scheduled by the minute: drop the seconds field',
  ],
  [
    'four fields',
    (s) => (s.cron = '0 8 * *'),
    'reports.morning.cron',
    'must have 5 fields (minute hour day-of-month month day-of-week), found 4',
  ],
  ['a macro', (s) => (s.cron = '@daily'), 'reports.morning.cron', 'is a macro: write its 5 fields'],
  [
    'minute out of range',
    (s) => (s.cron = '61 8 * * *'),
    'reports.morning.cron',
    '"61" is not a valid minute (0-59)',
  ],
  ['an impossible date', (s) => (s.cron = '0 8 31 2 *'), 'reports.morning.cron', 'impossible day of month'],
  ['cron as a number', (s) => (s.cron = 5), 'reports.morning.cron', 'must be a cron expression'],
  [
    'unknown time zone',
    (s) => (s.timezone = 'Europe/Pariss'),
    'reports.morning.timezone',
    'unknown time zone "Europe/Pariss": use an IANA name',
  ],
  ['a channel name', (s) => (s.channel = '#ops'), 'reports.morning.channel', 'not a Slack channel id'],
  ['no channel', (s) => delete s.channel, 'reports.morning.channel', 'expected string'],
  [
    'a user as mention',
    (s) => (s.mention = 'U0123ABCD'),
    'reports.morning.mention',
    'not a Slack user group id',
  ],
  [
    'an unknown cluster',
    (s) => (s.clusters = ['ESHA', 'NOPE']),
    'reports.morning.clusters[1]',
    'no cluster named "NOPE" in clusters (known: ESHA, DR)',
  ],
  [
    'a cluster listed twice',
    (s) => (s.clusters = ['ESHA', 'DR', 'ESHA']),
    'reports.morning.clusters[2]',
    'cluster "ESHA" is listed twice (also clusters[0])',
  ],
  [
    'an empty cluster list',
    (s) => (s.clusters = []),
    'reports.morning.clusters',
    'list at least one cluster',
  ],
  [
    'negative late limit',
    (s) => (s.lateLimitMinutes = -1),
    'reports.morning.lateLimitMinutes',
    'between 0 and 1440',
  ],
  ['unknown charts', (s) => (s.charts = 'some'), 'reports.morning.charts', 'use problems, all or none'],
  [
    'node timeout 0',
    (s) => (s.nodeTimeoutSeconds = 0),
    'reports.morning.nodeTimeoutSeconds',
    'between 1 and 120',
  ],
  [
    'node timeout 121',
    (s) => (s.nodeTimeoutSeconds = 121),
    'reports.morning.nodeTimeoutSeconds',
    'between 1 and 120',
  ],
  [
    'fractional node timeout',
    (s) => (s.nodeTimeoutSeconds = 2.5),
    'reports.morning.nodeTimeoutSeconds',
    'whole number',
  ],
  [
    'a size in the wrong case',
    (s) => (s.thresholds.lagBytes.warn = '16mb'),
    'reports.morning.thresholds.lagBytes.warn',
    '"16mb" is not a whole number of bytes, or a size with PostgreSQL units',
  ],
  [
    'a size of the wrong type',
    (s) => (s.thresholds.slotRetainedBytes = true),
    'reports.morning.thresholds.slotRetainedBytes',
    'must be a whole number of bytes',
  ],
  [
    'lag bytes warn above critical',
    (s) => (s.thresholds.lagBytes = { warn: '1GB', critical: '256MB' }),
    'reports.morning.thresholds.lagBytes.warn',
    'warn 1GB is above critical 256MB: warn must not exceed critical',
  ],
  [
    'lag bytes warn above the default critical',
    (s) => (s.thresholds.lagBytes = { warn: 512 * MB }),
    'reports.morning.thresholds.lagBytes.warn',
    'warn 512MB is above the default critical 256MB',
  ],
  [
    'lag seconds warn above critical',
    (s) => (s.thresholds.lagSeconds = { warn: 600, critical: 300 }),
    'reports.morning.thresholds.lagSeconds.warn',
    'warn 600 s is above critical 300 s',
  ],
  [
    'lag seconds critical below the default warn',
    (s) => (s.thresholds.lagSeconds = { critical: 10 }),
    'reports.morning.thresholds.lagSeconds.warn',
    'the default warn 30 s is above critical 10 s',
  ],
  [
    'negative lag seconds',
    (s) => (s.thresholds.lagSeconds.warn = -1),
    'reports.morning.thresholds.lagSeconds.warn',
    'must not be negative',
  ],
  [
    'free disk 0 %',
    (s) => (s.thresholds.minFreeDiskPercent = 0),
    'reports.morning.thresholds.minFreeDiskPercent',
    'above 0 and below 100',
  ],
  [
    'free disk 100 %',
    (s) => (s.thresholds.minFreeDiskPercent = 100),
    'reports.morning.thresholds.minFreeDiskPercent',
    'above 0 and below 100',
  ],
  [
    'a misspelt key',
    (s) => (s.thresholds.lagbytes = {}),
    'reports.morning.thresholds',
    'Unrecognized key: "lagbytes"',
  ],
  [
    'a bad schedule name',
    (s, doc) => {
      doc.reports = { '8am': s };
    },
    'reports.8am',
    'report names: a letter, then letters, digits, _ or -',
  ],
];

describe('invalid report schedules', () => {
  it.each(cases)('%s', async (_name, mutate, path, message) => {
    const doc = example();
    mutate(doc.reports!.morning!, doc);
    expect(await problems(doc)).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('does not compare a threshold pair when one side is unreadable', async () => {
    const doc = example();
    doc.reports!.morning!.thresholds.lagBytes = { warn: '9TB', critical: 'lots' };
    expect((await problems(doc)).map((p) => p.path)).toEqual([
      'reports.morning.thresholds.lagBytes.critical',
    ]);
  });

  it('reports every problem at once, with those of the clusters', async () => {
    const doc = example();
    doc.clusters.ESHA!.nodes[0].host = 'bad host';
    const s = doc.reports!.morning!;
    s.cron = '0 0 8 * * *';
    s.clusters = ['NOPE'];
    s.thresholds.lagBytes = { warn: '1GB', critical: '16MB' };
    s.thresholds.minFreeDiskPercent = 100;
    expect((await problems(doc)).map((p) => p.path)).toEqual([
      'clusters.ESHA.nodes[0].host',
      'reports.morning.clusters[0]',
      'reports.morning.cron',
      'reports.morning.thresholds.lagBytes.warn',
      'reports.morning.thresholds.minFreeDiskPercent',
    ]);
  });

  it('still checks thresholds when the clusters section is itself broken', async () => {
    const doc = example() as unknown as Obj;
    doc.clusters = 'none';
    doc.reports.morning.thresholds.lagSeconds = { warn: 600, critical: 300 };
    const paths = (await problems(doc as Doc)).map((p) => p.path);
    expect(paths).toContain('reports.morning.thresholds.lagSeconds.warn');
    expect(paths.filter((p) => p.startsWith('reports.morning.clusters'))).toEqual([]);
  });
});

describe('reportSettingsFor', () => {
  async function inventoryWith(reports: Record<string, Obj>): Promise<Inventory> {
    const doc = example();
    doc.reports = reports;
    return load(doc);
  }

  it('takes the first schedule that covers the cluster', async () => {
    const inv = await inventoryWith({
      dr: {
        cron: '0 * * * *',
        channel: 'C0123ABCD',
        clusters: ['DR'],
        nodeTimeoutSeconds: 30,
        thresholds: { lagSeconds: { warn: 5, critical: 60 } },
      },
      all: {
        cron: '0 8 * * *',
        channel: 'C0123ABCD',
        nodeTimeoutSeconds: 3,
        thresholds: { minFreeDiskPercent: 20 },
      },
    });
    expect(reportSettingsFor(inv, 'DR')).toEqual({
      thresholds: { ...DEFAULT_THRESHOLDS, lagSeconds: { warn: 5, critical: 60 } },
      nodeTimeoutMs: 30_000,
    });
    expect(reportSettingsFor(inv, 'ESHA')).toEqual({
      thresholds: { ...DEFAULT_THRESHOLDS, minFreeDiskPercent: 20 },
      nodeTimeoutMs: 3_000,
    });
  });

  it('falls back to the defaults for a cluster no schedule covers', async () => {
    const inv = await inventoryWith({
      dr: { cron: '0 * * * *', channel: 'C0123ABCD', clusters: ['DR'], nodeTimeoutSeconds: 30 },
    });
    expect(reportSettingsFor(inv, 'ESHA')).toEqual({ thresholds: DEFAULT_THRESHOLDS, nodeTimeoutMs: 10_000 });
    expect(reportSettingsFor(await inventoryWith({}), 'DR')).toEqual({
      thresholds: DEFAULT_THRESHOLDS,
      nodeTimeoutMs: 10_000,
    });
  });
});
