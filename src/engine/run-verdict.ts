import { evaluate } from '../core/conditions';
import type { Json } from '../core/json';
import type { VerdictCheck } from '../core/plan';
import type { CheckResult, StepOutcome } from '../core/run';
import type { ActionContext } from './run-action';
import { observe } from './run-action';

// A verdict runs every check and shows each, pass or fail, with how long it waited (the
// replication delay a person wants to see). It fails if any check fails.

const POLL_MS = 200;

async function poll(
  ctx: ActionContext,
  waitMs: number,
  attempt: () => Promise<{ ok: true; detail: string } | { ok: false; detail: string }>,
): Promise<{ ok: boolean; detail: string; waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    // A failed attempt (e.g. a pool restarting its children) is retried until the wait is over.
    const r = await attempt().catch((err: unknown) => {
      if (ctx.signal.aborted) throw err;
      return { ok: false as const, detail: err instanceof Error ? err.message : String(err) };
    });
    const waitedMs = Date.now() - started;
    if (r.ok || waitedMs >= waitMs) return { ...r, waitedMs };
    await ctx.clock.sleep(Math.min(POLL_MS, waitMs - waitedMs), ctx.signal);
  }
}

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
      return { name: c.name, ...r };
    }
    case 'catch-up': {
      const { position } = await one(ctx, c.primary, c.positionSql, []);
      const r = await poll(ctx, c.waitMs, async () =>
        (await caughtUp(ctx, c, position ?? null))
          ? { ok: true, detail: `replayed up to ${String(position)}` }
          : { ok: false, detail: `not yet replayed up to ${String(position)}` },
      );
      return { name: c.name, ...r };
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
      return { name: c.name, ...r };
    }
  }
}

export async function runVerdict(checks: readonly VerdictCheck[], ctx: ActionContext): Promise<StepOutcome> {
  const results: CheckResult[] = [];
  for (const c of checks) {
    try {
      results.push(await runCheck(c, ctx));
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      results.push({ name: c.name, ok: false, waitedMs: 0, detail: (err as Error).message });
    }
    ctx.onProgress({ message: `${results.at(-1)!.ok ? 'pass' : 'FAIL'}: ${c.name}` });
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
