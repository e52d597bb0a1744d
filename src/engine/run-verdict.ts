import { evaluate } from '../core/conditions';
import type { Json } from '../core/json';
import type { VerdictCheck } from '../core/plan';
import type { CheckResult, StepOutcome } from '../core/run';
import type { ActionContext } from './run-action';
import { observe } from './run-action';
import { scrubText } from '../log/create-logger';

// A verdict runs every check and shows each, pass or fail, with how long it waited (the
// replication delay a person wants to see). It fails if any check fails.

const POLL_MS = 200;

interface Polled {
  readonly ok: boolean;
  readonly detail: string;
  readonly waitedMs: number;
  /** How many looks it took: a pass at the first look measured no delay, it was already so. */
  readonly attempts: number;
}

async function poll(
  ctx: ActionContext,
  waitMs: number,
  attempt: () => Promise<{ ok: true; detail: string } | { ok: false; detail: string }>,
): Promise<Polled> {
  const started = Date.now();
  for (let attempts = 1; ; attempts++) {
    // A failed attempt (e.g. a pool restarting its children) is retried until the wait is over.
    const r = await attempt().catch((err: unknown) => {
      if (ctx.signal.aborted) throw err;
      return { ok: false as const, detail: err instanceof Error ? err.message : String(err) };
    });
    const waitedMs = Date.now() - started;
    if (r.ok || waitedMs >= waitMs) return { ...r, waitedMs, attempts };
    await ctx.clock.sleep(Math.min(POLL_MS, waitMs - waitedMs), ctx.signal);
  }
}

/**
 * What a measuring probe check says. The wait starts when the check does, so a pass at the first
 * look (e.g. after a resume, when the failover happened long before) measured nothing: an honest
 * unknown rather than a duration of zero.
 */
function measured(c: Extract<VerdictCheck, { kind: 'probe' }>, r: Polled): string {
  if (c.measure === undefined) return r.detail;
  if (!r.ok) return `${r.detail}, after ${c.waitMs / 1000} s`;
  if (r.attempts === 1) return `${c.measure} not measured: already so when first checked`;
  return `${c.measure} ${(r.waitedMs / 1000).toFixed(1)} s`;
}

/** A row count as read from SQL (a bigint comes back as text); anything else is not a count. */
function countOf(row: Record<string, Json>): number {
  const n = row.n;
  if (n === undefined) throw new Error('the count gave no column n');
  const text = String(n);
  if (!/^\d+$/.test(text)) throw new Error(`the count gave ${JSON.stringify(n)}, not a number of rows`);
  return Number(text);
}

function lostRowsDetail(acknowledged: number, present: number): string {
  const lost = acknowledged - present;
  const said = `${lost} of ${acknowledged} acknowledged rows lost`;
  return lost === 0
    ? said
    : `${said} (the primary acknowledged them before the standby had them: asynchronous replication)`;
}

/** A failed check in plain words, with the last lines of what explains it (read-only; its failure is said too). */
async function explained(
  failed: NonNullable<Extract<VerdictCheck, { kind: 'probe' }>['failed']>,
  detail: string,
  ctx: ActionContext,
): Promise<string> {
  const said = `${failed.says} (${detail})`;
  const e = failed.explain;
  if (!e) return said;
  try {
    const o = await observe({ kind: 'ssh', argv: e.argv }, { ...ctx, target: targetOf(ctx, e.target) });
    const lines = o.kind === 'ssh' ? scrubText(`${o.stdout}`).trim().split('\n').slice(-EXPLAIN_LINES) : [];
    return `${said}; ${e.target} logged: ${lines.join(' / ').slice(-EXPLAIN_CHARS) || '(nothing)'}`;
  } catch (err) {
    return `${said}; ${e.target}'s log could not be read: ${err instanceof Error ? err.message : String(err)}`;
  }
}

const EXPLAIN_LINES = 8;
const EXPLAIN_CHARS = 1200;

function targetOf(ctx: ActionContext, name: string) {
  const t = ctx.plan.targets[name];
  if (!t) throw new Error(`verdict check names unknown target ${name}`);
  return t;
}

async function one(
  ctx: ActionContext,
  target: string,
  sql: string,
  params: readonly Json[],
  database?: string,
) {
  const client = await ctx.connector.sql(targetOf(ctx, target), database);
  const r = await client.query<Record<string, Json>>(sql, params, { signal: ctx.signal });
  return r.rows[0] ?? {};
}

async function caughtUp(ctx: ActionContext, c: { standby: string; caughtUpSql: string }, position: Json) {
  const row = await one(ctx, c.standby, c.caughtUpSql, [position]);
  return row.caught_up === true;
}

async function runCheck(c: VerdictCheck, ctx: ActionContext): Promise<CheckResult> {
  switch (c.kind) {
    case 'probe': {
      const sub = { ...ctx, target: targetOf(ctx, c.target) };
      const r = await poll(ctx, c.waitMs, async () => {
        const e = evaluate(c.expect, await observe(c.probe, sub));
        return e.ok ? { ok: true, detail: 'as expected' } : { ok: false, detail: e.reason };
      });
      const detail = measured(c, r);
      if (r.ok || !c.failed) return { name: c.name, ok: r.ok, waitedMs: r.waitedMs, detail };
      return {
        name: c.name,
        ok: false,
        waitedMs: r.waitedMs,
        detail: await explained(c.failed, detail, ctx),
      };
    }
    case 'catch-up': {
      const { position } = await one(ctx, c.primary, c.positionSql, []);
      const r = await poll(ctx, c.waitMs, async () =>
        (await caughtUp(ctx, c, position ?? null))
          ? { ok: true, detail: `replayed up to ${String(position)}` }
          : { ok: false, detail: `not yet replayed up to ${String(position)}` },
      );
      return { name: c.name, ok: r.ok, waitedMs: r.waitedMs, detail: r.detail };
    }
    case 'rows': {
      const primary = await one(ctx, c.primary, c.countSql, [], c.database);
      const n = BigInt(String(primary.n ?? 0));
      const r = await poll(ctx, c.waitMs, async () => {
        if (!(await caughtUp(ctx, c, primary.position ?? null))) {
          return { ok: false, detail: `not yet replayed up to ${String(primary.position)}` };
        }
        const s = BigInt(String((await one(ctx, c.standby, c.standbyCountSql, [], c.database)).n ?? 0));
        if (s < n) return { ok: false, detail: `${c.standby} has ${s} rows, ${c.primary} had ${n}` };
        const newer = s - n;
        return {
          ok: true,
          detail: newer === 0n ? `${n} rows on both` : `all ${n} rows (+${newer} written since)`,
        };
      });
      return { name: c.name, ok: r.ok, waitedMs: r.waitedMs, detail: r.detail };
    }
    case 'lost-rows': {
      // A loss is the drill's finding, not a failure: only the count itself is waited for (a
      // promoted standby may still refuse connections for a moment), and never guessed.
      let present: number | undefined;
      const r = await poll(ctx, c.waitMs, async () => {
        present = countOf(await one(ctx, c.target, c.countSql, [], c.database));
        return { ok: true, detail: 'counted' };
      });
      const result = { name: c.name, waitedMs: r.waitedMs };
      if (!r.ok || present === undefined) return { ...result, ok: false, detail: `unknown: ${r.detail}` };
      if (present > c.acknowledged)
        return {
          ...result,
          ok: false,
          detail: `unknown: the count says ${present} of ${c.acknowledged} acknowledged rows are present, so it counts other rows too`,
        };
      return { ...result, ok: true, detail: lostRowsDetail(c.acknowledged, present) };
    }
  }
}

export async function runVerdict(checks: readonly VerdictCheck[], ctx: ActionContext): Promise<StepOutcome> {
  const results: CheckResult[] = [];
  let gate: string | undefined;
  for (const c of checks) {
    if (gate !== undefined) {
      results.push({ name: c.name, ok: false, waitedMs: 0, detail: `not checked: ${gate} failed` });
      continue;
    }
    try {
      results.push(await runCheck(c, ctx));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      results.push({ name: c.name, ok: false, waitedMs: 0, detail: (err as Error).message });
    }
    ctx.onProgress({ message: `${results.at(-1)!.ok ? 'pass' : 'FAIL'}: ${c.name}` });
    if (c.kind === 'probe' && c.gate && !results.at(-1)!.ok) gate = c.name;
  }
  const detail = { checks: results as unknown as Json };
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) return { ok: true, detail };
  return {
    ok: false,
    kind: 'failure',
    failure: {
      code: 'verification-failed',
      message: `${failed.length} of ${results.length} checks failed: ${failed.map((f) => `${f.name} (${f.detail})`).join('; ')}`,
    },
    detail,
  };
}
