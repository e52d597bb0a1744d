import { validateDetailed } from 'node-cron';
import { z } from 'zod';
import { DEFAULT_THRESHOLDS, type HealthThresholds } from '../core/health-levels';
import type { Inventory } from './normalise-inventory';

// Scheduled replication health reports: the schema of one schedule (inventory-schema places it
// under `reports.<name>`), its normalised form, and the settings an on-demand report borrows from
// it. The rules that span its fields live with the others in inventory-rules.

const BYTE_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  kB: 1024,
  MB: 1024 ** 2,
  GB: 1024 ** 3,
  TB: 1024 ** 4,
};
// PostgreSQL's memory units, case-sensitive as in postgresql.conf; a space before the unit is allowed.
const BYTE_SIZE = /^\s*(\d+(?:\.\d+)?)\s*(B|kB|MB|GB|TB)?\s*$/;
const BYTE_HINT =
  'a whole number of bytes, or a size with PostgreSQL units (B, kB, MB, GB, TB; 1024-based; case-sensitive), e.g. 16MB';

/** Bytes of a number or a PostgreSQL size text (`16MB`, `1GB`, 1024-based); undefined when neither. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const m = BYTE_SIZE.exec(value);
  if (!m) return undefined;
  const bytes = Math.round(Number(m[1]) * (BYTE_UNITS[m[2] ?? 'B'] ?? 1));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

const byteSizeSchema = z
  .union([z.number(), z.string()], { error: `must be ${BYTE_HINT}` })
  .transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (bytes !== undefined) return bytes;
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(value)} is not ${BYTE_HINT}` });
    return z.NEVER;
  });

/** A size as people write it: 16MB rather than 16777216 (for messages and the reference). */
export function byteSizeText(bytes: number): string {
  for (const unit of ['TB', 'GB', 'MB', 'kB'] as const) {
    const size = BYTE_UNITS[unit] ?? 1;
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}

// zod leaves a transformed value's default out of the JSON schema: the reference reads it here.
const bytesSchema = (fallback: number, what: string) =>
  byteSizeSchema
    .default(fallback)
    .describe(`${what}: bytes, or a size such as 16MB (1024-based); default ${byteSizeText(fallback)}`);

const secondsSchema = (fallback: number, what: string) =>
  z
    .number({ error: 'must be a number of seconds' })
    .min(0, { error: 'must not be negative' })
    .default(fallback)
    .describe(`${what}, in seconds`);

const D = DEFAULT_THRESHOLDS;

const thresholdsSchema = z
  .strictObject({
    lagBytes: z
      .strictObject({
        warn: bytesSchema(D.lagBytes.warn, 'replay lag for amber'),
        critical: bytesSchema(D.lagBytes.critical, 'replay lag for red'),
      })
      .prefault({})
      .describe("a standby's replay lag behind the primary's current WAL position"),
    lagSeconds: z
      .strictObject({
        warn: secondsSchema(D.lagSeconds.warn, 'replay delay for amber'),
        critical: secondsSchema(D.lagSeconds.critical, 'replay delay for red'),
      })
      .prefault({})
      .describe("a standby's replay delay"),
    slotRetainedBytes: bytesSchema(
      D.slotRetainedBytes,
      'WAL a slot may hold back (above it: red for an inactive slot, amber for an active one)',
    ),
    minFreeDiskPercent: z
      .number({ error: 'must be a percentage' })
      .gt(0, { error: 'must be a percentage above 0 and below 100' })
      .lt(100, { error: 'must be a percentage above 0 and below 100' })
      .default(D.minFreeDiskPercent)
      .describe(
        "free space of a data directory's file system, in percent: below it red, below twice it amber",
      ),
  })
  .prefault({})
  .describe('when a reading turns amber or red (each part optional)');

const CRON_FIELDS = 'minute hour day-of-month month day-of-week';
const FIELD_RANGES: Readonly<Record<string, string>> = {
  minute: 'minute (0-59)',
  hour: 'hour (0-23)',
  dayOfMonth: 'day-of-month (1-31)',
  month: 'month (1-12 or jan-dec)',
  dayOfWeek: 'day-of-week (0-7 or sun-sat)',
};

// Slots are minutes (a claim names one): a seconds field would ask for slots nobody keeps.
function cronProblem(expression: string): string | undefined {
  const text = expression.trim();
  const fields = text === '' ? [] : text.split(/\s+/);
  if (fields.length === 6) {
    return `has 6 fields, but reports are scheduled by the minute: drop the seconds field (${CRON_FIELDS})`;
  }
  if (text.startsWith('@'))
    return `is a macro: write its 5 fields (${CRON_FIELDS}), e.g. "0 0 * * *" for @daily`;
  if (fields.length !== 5) return `must have 5 fields (${CRON_FIELDS}), found ${fields.length}`;
  const detail = validateDetailed(fields.join(' '));
  if (detail.valid) return undefined;
  const why = detail.errors.map((e) =>
    /impossible/.test(e.message) || FIELD_RANGES[e.field] === undefined
      ? e.message
      : `${JSON.stringify(e.value ?? '')} is not a valid ${FIELD_RANGES[e.field]}`,
  );
  return `is not valid: ${why.join('; ') || 'node-cron refuses it'}`;
}

const cronSchema = z
  .string({ error: 'must be a cron expression such as "0 8 * * 1-5"' })
  .superRefine((expression, ctx) => {
    const problem = cronProblem(expression);
    if (problem) ctx.addIssue({ code: 'custom', message: `cron "${expression}" ${problem}` });
  })
  .transform((expression) => expression.trim().split(/\s+/).join(' '))
  .describe('5-field cron expression (minute hour day-of-month month day-of-week), e.g. "0 8 * * 1-5"');

export const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

export const reportChartsSchema = z
  .enum(['problems', 'all', 'none'], { error: 'unknown charts setting: use problems, all or none' })
  .describe('lag charts in the thread: of clusters that are not green, of every cluster, or none');

export const reportScheduleSchema = z
  .strictObject({
    cron: cronSchema,
    timezone: z
      .string()
      .refine(isTimeZone, {
        error: (i) =>
          `unknown time zone ${JSON.stringify(i.input)}: use an IANA name such as Asia/Shanghai or UTC`,
      })
      .default('UTC')
      .describe('IANA time zone the cron expression is read in'),
    channel: z
      .string()
      .regex(/^[CG][A-Z0-9]{6,20}$/, {
        message: 'not a Slack channel id (like C0123ABCD; a #name will not do)',
      })
      .describe('Slack channel id the report is posted to'),
    clusters: z
      .array(z.string())
      .min(1, { error: 'list at least one cluster, or leave clusters out for every cluster' })
      .optional()
      .describe('clusters in the report (default: every cluster)'),
    mention: z
      .string()
      .regex(/^S[A-Z0-9]{6,20}$/, { message: 'not a Slack user group id (like S0123ABCD)' })
      .optional()
      .describe('Slack user group id mentioned when the report is red'),
    lateLimitMinutes: z
      .number({ error: 'must be a number of minutes' })
      .int({ error: 'must be a whole number of minutes' })
      .min(0, { error: 'must be between 0 and 1440' })
      .max(1440, { error: 'must be between 0 and 1440' })
      .default(60)
      .describe(
        'a slot missed while no bot ran is posted late up to this many minutes, else skipped with a note',
      ),
    charts: reportChartsSchema.default('problems'),
    nodeTimeoutSeconds: z
      .number({ error: 'must be a number of seconds' })
      .int({ error: 'must be a whole number of seconds' })
      .min(1, { error: 'must be between 1 and 120' })
      .max(120, { error: 'must be between 1 and 120' })
      .default(10)
      .describe('how long one node may take to answer before it is reported unreachable'),
    thresholds: thresholdsSchema,
  })
  .describe('one scheduled replication health report');

export type ParsedReportSchedule = z.output<typeof reportScheduleSchema>;
export type ReportCharts = z.output<typeof reportChartsSchema>;

export interface ReportSchedule {
  readonly name: string;
  readonly cron: string;
  readonly timezone: string;
  /** Slack channel id. */
  readonly channel: string;
  /** The clusters reported: as the schedule lists them, else every cluster in inventory order. */
  readonly clusters: readonly string[];
  /** Slack user group id mentioned when the report is red. */
  readonly mention?: string;
  readonly lateLimitMinutes: number;
  readonly charts: ReportCharts;
  readonly nodeTimeoutMs: number;
  readonly thresholds: HealthThresholds;
}

export const DEFAULT_NODE_TIMEOUT_MS = 10_000;

export function normaliseReports(
  reports: Readonly<Record<string, ParsedReportSchedule>> | undefined,
  clusterNames: readonly string[],
): ReportSchedule[] {
  return Object.entries(reports ?? {}).map(([name, r]) => ({
    name,
    cron: r.cron,
    timezone: r.timezone,
    channel: r.channel,
    // The rules refuse unknown and repeated names; filtering keeps this total all the same.
    clusters: r.clusters
      ? [...new Set(r.clusters)].filter((c) => clusterNames.includes(c))
      : [...clusterNames],
    ...(r.mention !== undefined && { mention: r.mention }),
    lateLimitMinutes: r.lateLimitMinutes,
    charts: r.charts,
    nodeTimeoutMs: r.nodeTimeoutSeconds * 1000,
    thresholds: r.thresholds,
  }));
}

/** What an on-demand report of `cluster` uses: the first schedule covering it, else the defaults. */
export function reportSettingsFor(
  inventory: Pick<Inventory, 'reports'>,
  cluster: string,
): { thresholds: HealthThresholds; nodeTimeoutMs: number } {
  const schedule = inventory.reports.find((r) => r.clusters.includes(cluster));
  return schedule
    ? { thresholds: schedule.thresholds, nodeTimeoutMs: schedule.nodeTimeoutMs }
    : { thresholds: DEFAULT_THRESHOLDS, nodeTimeoutMs: DEFAULT_NODE_TIMEOUT_MS };
}
