import { evaluate } from '../core/conditions';
import { applyEdit } from '../core/file-edits';
import { quoteConfigValue, quoteConninfoValue } from '../dialects/dialect';
import { runVerdict } from './run-verdict';
import type { Json } from '../core/json';
import type { Action, Observation, Probe, SealedPlan, Target } from '../core/plan';
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
}

const TAIL_LINES = 20;
const tail = (text: string): string => scrubText(text.trimEnd().split('\n').slice(-TAIL_LINES).join('\n'));

const encodeSecret = (value: string, encoding: 'plain' | 'base64' | 'conninfo'): string =>
  encoding === 'base64'
    ? Buffer.from(value, 'utf8').toString('base64')
    : encoding === 'conninfo'
      ? quoteConfigValue(quoteConninfoValue(value)).slice(1, -1)
      : value;

/** Where a file-edit keeps the file's previous content, so that its undo can put it back. */
export const backupPath = (plan: SealedPlan, path: string, stepId: string): string =>
  `${path}.kbops-${plan.hash.slice(0, 12)}-${stepId}.bak`;

// pg_basebackup / sys_basebackup -P: "2079583/2079583 kB (100%), 1/1 tablespace"; with a terminal
// it separates updates with \r, so look at the last segment of a line.
const BASEBACKUP = /(\d+)\/(\d+) kB \((\d+)%\)/;
export function parseBasebackupProgress(line: string): { percent: number; message: string } | undefined {
  const last =
    line
      .split('\r')
      .filter((s) => s.trim() !== '')
      .pop() ?? '';
  const m = BASEBACKUP.exec(last);
  return m ? { percent: Number(m[3]), message: last.trim() } : undefined;
}

const failure = (code: string, message: string, hint?: string, detail?: Json): StepOutcome => ({
  ok: false,
  kind: 'failure',
  failure: { code, message, ...(hint !== undefined && { hint }) },
  ...(detail !== undefined && { detail }),
});

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
  const shell = await ctx.connector.shell(ctx.target);
  const stdin = action.stdinSecret ? `${await ctx.connector.secret(action.stdinSecret)}\n` : undefined;
  const onLine = action.progress
    ? (line: string) => {
        const p = parseBasebackupProgress(line);
        if (p) ctx.onProgress(p);
      }
    : undefined;
  const r = await shell.exec(cmd(...(action.argv as [string, ...string[]])), {
    signal: ctx.signal,
    ...(stdin !== undefined && { stdin }),
    ...(onLine && { onStdoutLine: onLine, onStderrLine: onLine }),
  });
  const detail = { exitCode: r.exitCode, stdout: tail(r.stdout), stderr: tail(r.stderr) };
  const ok = action.okExitCodes ?? [0];
  if (r.exitCode !== null && ok.includes(r.exitCode)) return { ok: true, detail };
  const why = r.exitCode === null ? `was killed by ${r.signal ?? 'a signal'}` : `exited with ${r.exitCode}`;
  const lastErr = detail.stderr.split('\n').pop() || detail.stdout.split('\n').pop() || '';
  return failure(
    'command-failed',
    `${action.argv[0]} ${why}${lastErr ? `: ${lastErr}` : ''}`,
    undefined,
    detail,
  );
}

async function runFileEdit(
  action: Extract<Action, { kind: 'file-edit' }>,
  stepId: string,
  ctx: ActionContext,
): Promise<StepOutcome> {
  const files = await ctx.connector.files(ctx.target);
  const current = await files.read(action.path, ctx.signal);
  const sha = current?.sha256 ?? null;
  if (sha !== action.expectedSha256) {
    return failure(
      'file-changed',
      `${action.path} on ${ctx.target.name} changed since the plan was made`,
      'someone edited it after the plan was approved: make a new plan so the edit is reviewed again',
      { expected: action.expectedSha256, found: sha },
    );
  }
  const edited = applyEdit(current?.content.toString('utf8') ?? '', action.edit);
  if (!edited.ok) return { ok: false, kind: 'failure', failure: edited.failure };
  if (current) {
    await files.write(backupPath(ctx.plan, action.path, stepId), current.content, {
      mode: current.mode,
      signal: ctx.signal,
    });
  }
  let text = edited.content;
  for (const s of action.secrets ?? []) {
    const value = await ctx.connector.secret(s.secret);
    text = text.split(s.token).join(encodeSecret(value, s.encoding));
  }
  const content = Buffer.from(text, 'utf8');
  await files.write(action.path, content, {
    ...(action.mode !== undefined ? { mode: action.mode } : current ? { mode: current.mode } : {}),
    signal: ctx.signal,
  });
  return { ok: true, detail: { path: action.path, before: sha, changed: edited.changed } };
}

async function runFileRestore(
  action: Extract<Action, { kind: 'file-restore' }>,
  ctx: ActionContext,
): Promise<StepOutcome> {
  const edit = ctx.plan.steps.find((s) => s.id === action.editStepId);
  if (!edit || edit.action.kind !== 'file-edit') {
    return {
      ok: false,
      kind: 'error',
      failure: { code: 'plan-invalid', message: `no file-edit step ${action.editStepId}` },
    };
  }
  const files = await ctx.connector.files(ctx.target);
  if (edit.action.expectedSha256 === null) {
    await files.remove(action.path, ctx.signal); // the edit created it
    return { ok: true, detail: { path: action.path, removed: true } };
  }
  const bak = backupPath(ctx.plan, action.path, action.editStepId);
  const backup = await files.read(bak, ctx.signal);
  if (!backup) {
    const now = await files.read(action.path, ctx.signal);
    // No backup and the file is as the plan found it: the edit never ran, nothing to undo.
    if (now?.sha256 === edit.action.expectedSha256)
      return { ok: true, detail: { path: action.path, unchanged: true } };
    return failure(
      'backup-missing',
      `backup ${bak} is missing, so ${action.path} cannot be restored`,
      'restore it by hand',
    );
  }
  await files.write(action.path, backup.content, { mode: backup.mode, signal: ctx.signal });
  await files.remove(bak, ctx.signal);
  return { ok: true, detail: { path: action.path, restored: backup.sha256 } };
}

async function runCondition(
  probe: Probe,
  until: Parameters<typeof evaluate>[0],
  ctx: ActionContext,
  intervalMs: number | undefined,
): Promise<StepOutcome> {
  for (;;) {
    const seen = await observe(probe, ctx);
    const r = evaluate(until, seen);
    if (r.ok) return { ok: true };
    if (intervalMs === undefined) return failure('check-failed', r.reason);
    ctx.onProgress({ message: `waiting: ${r.reason}` });
    await ctx.clock.sleep(intervalMs, ctx.signal); // the step timeout ends the wait through the signal
  }
}

export async function runAction(action: Action, stepId: string, ctx: ActionContext): Promise<StepOutcome> {
  switch (action.kind) {
    case 'ssh':
      return runSsh(action, ctx);
    case 'sql': {
      const sql = await ctx.connector.sql(ctx.target, action.database);
      const r = await sql.query(action.sql, action.params, { signal: ctx.signal });
      return { ok: true, detail: { rowCount: r.rowCount, rows: r.rows.slice(0, 20) as Json[] } };
    }
    case 'file-edit':
      return runFileEdit(action, stepId, ctx);
    case 'file-restore':
      return runFileRestore(action, ctx);
    case 'wait-until':
      return runCondition(action.probe, action.until, ctx, action.intervalMs);
    case 'verify':
      return runCondition(action.probe, action.expect, ctx, undefined);
    case 'verdict':
      return runVerdict(action.checks, ctx);
  }
}
