import { evaluate } from '../core/conditions';
import { failure, tail } from './action-outcome';
import { runFileEdit, runFileRestore } from './run-file-edit';
import { runVerdict } from './run-verdict';
import type { Json } from '../core/json';
import type { Action, Condition, Observation, Probe, ProgressReader, SealedPlan, Target } from '../core/plan';
import type { StepOutcome } from '../core/run';
import { scrubText } from '../log/create-logger';
import type { Clock } from '../ports/clock';
import type { Connector } from '../ports/connector';
import { cmd } from '../shell/shell-command';

// Runs one action of a plan against one target through the ports. Expected outcomes (a command
// that exits non-zero, a file changed since the plan, a condition not met) are `failure` results;
// faults of the machinery (connection lost, SQL error) become `error` results. Aborts propagate.

export interface ActionContext {
  readonly plan: SealedPlan;
  readonly target: Target;
  readonly connector: Connector;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly onProgress: (progress: { percent?: number; message?: string }) => void;
  /** Readers of command output the runbooks contribute, by the name a step's `progress` gives. */
  readonly progressReaders?: Readonly<Record<string, ProgressReader>>;
  /** A remote command's process group is known: journaled, so it can be reaped after a crash. */
  readonly onRemoteStart?: (info: { pgid: number; nonce: string; target?: string }) => void;
}

export async function observe(probe: Probe, ctx: Omit<ActionContext, 'onProgress'>): Promise<Observation> {
  switch (probe.kind) {
    case 'sql': {
      const sql = await ctx.connector.sql(ctx.target, probe.database);
      const r = await sql.query(probe.sql, probe.params, { signal: ctx.signal });
      return { kind: 'sql', rows: r.rows as Record<string, Json>[] };
    }
    case 'ssh': {
      const shell = await ctx.connector.shell(ctx.target);
      const r = await shell.exec(cmd(...(probe.argv as [string, ...string[]])), { signal: ctx.signal });
      return { kind: 'ssh', exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
    }
    case 'file': {
      const files = await ctx.connector.files(ctx.target);
      const f = await files.read(probe.path, ctx.signal);
      return { kind: 'file', sha256: f?.sha256 ?? null };
    }
  }
}

async function runSsh(action: Extract<Action, { kind: 'ssh' }>, ctx: ActionContext): Promise<StepOutcome> {
  const reader = action.progress && ctx.progressReaders?.[action.progress.kind];
  // Without its reader a long copy would look stalled and be killed: refuse before starting it.
  if (action.progress && !reader)
    return {
      ...failure(
        'unknown-progress',
        `this kbops cannot read the progress of ${action.progress.kind} (the plan was made by another version)`,
        'run it with the kbops version that made the plan, or plan again',
      ),
      unchanged: true,
    } as StepOutcome;
  const target = action.on === undefined ? ctx.target : ctx.plan.targets[action.on];
  if (target === undefined)
    return {
      ok: false,
      kind: 'error',
      failure: { code: 'plan-invalid', message: `the command names unknown target ${action.on}` },
    };
  const shell = await ctx.connector.shell(target);
  const stdin = action.stdinSecret ? `${await ctx.connector.secret(action.stdinSecret)}\n` : undefined;
  const onLine = reader
    ? (line: string) => {
        const p = reader(line);
        if (p) ctx.onProgress(p);
      }
    : undefined;
  const r = await shell.exec(cmd(...(action.argv as [string, ...string[]])), {
    signal: ctx.signal,
    ...(stdin !== undefined && { stdin }),
    ...(onLine && { onStdoutLine: onLine, onStderrLine: onLine }),
    // A crash leaves it to be reaped where it runs, which `on` may make another host than the step's.
    ...(ctx.onRemoteStart && {
      onStarted: (r: { pgid: number; nonce: string }) => ctx.onRemoteStart!({ ...r, target: target.name }),
    }),
  });
  const detail = { exitCode: r.exitCode, stdout: tail(r.stdout), stderr: tail(r.stderr) };
  const ok = action.okExitCodes ?? [0];
  if (r.exitCode !== null && ok.includes(r.exitCode)) return { ok: true, detail };
  if (r.exitCode !== null && action.refusedExitCodes?.includes(r.exitCode)) {
    const said =
      detail.stderr
        .split('\n')
        .filter((l) => !l.startsWith('+'))
        .pop() || `exit ${r.exitCode}`;
    return {
      ...failure(
        'refused',
        said.replace(/^kbops: /, ''),
        'nothing was changed by this step: look at the host, then plan again',
      ),
      detail,
      unchanged: true,
    } as StepOutcome;
  }
  const why = r.exitCode === null ? `was killed by ${r.signal ?? 'a signal'}` : `exited with ${r.exitCode}`;
  const lastErr = detail.stderr.split('\n').pop() || detail.stdout.split('\n').pop() || '';
  return failure(
    'command-failed',
    `${action.argv[0]} ${why}${lastErr ? `: ${lastErr}` : ''}`,
    undefined,
    detail,
  );
}

async function runCondition(
  action: Extract<Action, { kind: 'wait-until' | 'verify' }>,
  until: Condition,
  ctx: ActionContext,
  intervalMs: number | undefined,
): Promise<StepOutcome> {
  // `on` probes another target than the step's, e.g. an undo that first checks the new primary.
  const target = action.on === undefined ? ctx.target : ctx.plan.targets[action.on];
  if (target === undefined)
    return {
      ok: false,
      kind: 'error',
      failure: { code: 'plan-invalid', message: `the check names unknown target ${action.on}` },
    };
  const sub = { ...ctx, target };
  // Saying where matters when it is not the step's own host: the reader would look there otherwise.
  const where = action.on === undefined ? '' : `on ${target.name}: `;
  for (;;) {
    const seen = await observe(action.probe, sub);
    const r = evaluate(until, seen);
    if (r.ok) return { ok: true };
    if (intervalMs === undefined) return failure('check-failed', `${where}${r.reason}`);
    ctx.onProgress({ message: `waiting: ${where}${r.reason}` });
    await ctx.clock.sleep(intervalMs, ctx.signal); // the step timeout ends the wait through the signal
  }
}

/** The server refused the statement (it carries an SQLSTATE): one statement, so nothing was changed. */
const isServerError = (err: unknown): err is Error & { code: string } =>
  err instanceof Error &&
  typeof (err as { severity?: unknown }).severity === 'string' &&
  /^[0-9A-Z]{5}$/.test(String((err as { code?: unknown }).code));

async function runSql(action: Extract<Action, { kind: 'sql' }>, ctx: ActionContext): Promise<StepOutcome> {
  const sql = await ctx.connector.sql(ctx.target, action.database);
  try {
    const r = await sql.query(action.sql, action.params, { signal: ctx.signal });
    return { ok: true, detail: { rowCount: r.rowCount, rows: r.rows.slice(0, 20) as Json[] } };
  } catch (err) {
    if (ctx.signal.aborted || !isServerError(err)) throw err;
    return {
      ...failure('sql-refused', `${scrubText(err.message)} (SQLSTATE ${err.code})`),
      unchanged: true,
    } as StepOutcome;
  }
}

export async function runAction(action: Action, stepId: string, ctx: ActionContext): Promise<StepOutcome> {
  switch (action.kind) {
    case 'ssh':
      return runSsh(action, ctx);
    case 'sql':
      return runSql(action, ctx);
    case 'file-edit':
      return runFileEdit(action, stepId, ctx);
    case 'file-restore':
      return runFileRestore(action, ctx);
    case 'wait-until':
      return runCondition(action, action.until, ctx, action.intervalMs);
    case 'verify':
      return runCondition(action, action.expect, ctx, undefined);
    case 'verdict':
      return runVerdict(action.checks, ctx);
  }
}
