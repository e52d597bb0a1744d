import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { evaluate } from '../core/conditions';
import { applyEdit } from '../core/file-edits';
import { quoteConfigValue, quoteConninfoValue } from '../dialects/dialect';
import { runVerdict } from './run-verdict';
import type { Json } from '../core/json';
import type { Action, Observation, Probe, ProgressReader, SealedPlan, Target } from '../core/plan';
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
  readonly onRemoteStart?: (info: { pgid: number; nonce: string }) => void;
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
  const shell = await ctx.connector.shell(ctx.target);
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
    ...(ctx.onRemoteStart && { onStarted: ctx.onRemoteStart }),
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

/** What a file-edit keeps beside its backup: enough for its undo to prove the file is still its own. */
interface BackupMeta {
  readonly mode: number | null; // null: the edit created the file
  readonly before: string | null;
  readonly written: string;
}

const metaPath = (backup: string): string => `${backup}.meta`;
const backupOf = (plan: SealedPlan, action: Extract<Action, { kind: 'file-edit' }>, stepId: string): string =>
  action.backup ?? backupPath(plan, action.path, stepId);

async function ensureDirOf(path: string, ctx: ActionContext): Promise<void> {
  const shell = await ctx.connector.shell(ctx.target);
  const r = await shell.exec(cmd('mkdir', '-p', '-m', '0700', '--', posix.dirname(path)), {
    signal: ctx.signal,
  });
  if (r.exitCode !== 0)
    throw new Error(`cannot make ${posix.dirname(path)} on ${ctx.target.name}: ${tail(r.stderr)}`);
}

async function runFileEdit(
  action: Extract<Action, { kind: 'file-edit' }>,
  stepId: string,
  ctx: ActionContext,
): Promise<StepOutcome> {
  const files = await ctx.connector.files(ctx.target);
  const current = await files.read(action.path, ctx.signal);
  const sha = current?.sha256 ?? null;
  const bak = backupOf(ctx.plan, action, stepId);
  if (sha !== action.expectedSha256) {
    // A retry or resume of this very edit finds its own result: nothing more to do.
    const meta = await readMeta(files, bak, ctx.signal);
    if (meta && sha === meta.written && meta.before === action.expectedSha256) {
      return { ok: true, detail: { path: action.path, before: meta.before, changed: false } };
    }
    return {
      ...failure(
        'file-changed',
        `${action.path} on ${ctx.target.name} changed since the plan was made`,
        'someone edited it after the plan was approved: make a new plan so the edit is reviewed again',
        { expected: action.expectedSha256, found: sha },
      ),
      unchanged: true,
    } as StepOutcome;
  }
  const edited = applyEdit(current?.content.toString('utf8') ?? '', action.edit);
  if (!edited.ok) return { ok: false, kind: 'failure', failure: edited.failure, unchanged: true };
  let text = edited.content;
  for (const s of action.secrets ?? []) {
    const value = await ctx.connector.secret(s.secret);
    text = text.split(s.token).join(encodeSecret(value, s.encoding));
  }
  const content = Buffer.from(text, 'utf8');
  // The backup and the sha of what is about to be written exist before the file changes, so an
  // undo can always tell "still ours" from "changed by someone since". Both are 0600: the old
  // content may hold a password.
  if (action.backup !== undefined) await ensureDirOf(bak, ctx);
  if (current) await files.write(bak, current.content, { mode: 0o600, signal: ctx.signal });
  const meta: BackupMeta = {
    mode: current ? current.mode : null,
    before: sha,
    written: createHash('sha256').update(content).digest('hex'),
  };
  await files.write(metaPath(bak), Buffer.from(JSON.stringify(meta)), { mode: 0o600, signal: ctx.signal });
  await files.write(action.path, content, {
    ...(action.mode !== undefined ? { mode: action.mode } : current ? { mode: current.mode } : {}),
    signal: ctx.signal,
  });
  return { ok: true, detail: { path: action.path, before: sha, changed: edited.changed } };
}

async function readMeta(
  files: Awaited<ReturnType<Connector['files']>>,
  bak: string,
  signal: AbortSignal,
): Promise<BackupMeta | null> {
  const f = await files.read(metaPath(bak), signal);
  if (!f) return null;
  try {
    const m = JSON.parse(f.content.toString('utf8')) as BackupMeta;
    return typeof m.written === 'string' ? m : null;
  } catch {
    return null;
  }
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
  const bak = backupOf(ctx.plan, edit.action, action.editStepId);
  const now = await files.read(action.path, ctx.signal);
  const nowSha = now?.sha256 ?? null;
  const meta = await readMeta(files, bak, ctx.signal);
  const cleanUp = async () => {
    await files.remove(bak, ctx.signal);
    await files.remove(metaPath(bak), ctx.signal);
  };
  // The edit never landed (or was undone already): the file is as the plan found it.
  if (nowSha === edit.action.expectedSha256) {
    await cleanUp();
    return { ok: true, detail: { path: action.path, unchanged: true } };
  }
  if (!meta || nowSha !== meta.written) {
    return failure(
      'not-ours',
      `${action.path} on ${ctx.target.name} is not what this run wrote (someone changed it since): left as it is`,
      meta
        ? `compare it with the content before the run, kept in ${bak}, and restore by hand if right`
        : 'kbops has no record of writing it; check the file by hand',
      { found: nowSha },
    );
  }
  if (meta.before === null) {
    await files.remove(action.path, ctx.signal); // the edit created it, and it is still exactly that
    await cleanUp();
    return { ok: true, detail: { path: action.path, removed: true } };
  }
  const backup = await files.read(bak, ctx.signal);
  if (!backup || backup.sha256 !== meta.before) {
    return failure(
      'backup-missing',
      `the backup ${bak} is missing or not the content before the run, so ${action.path} cannot be restored`,
      'restore it by hand',
    );
  }
  await files.write(action.path, backup.content, { mode: meta.mode ?? backup.mode, signal: ctx.signal });
  await cleanUp();
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
      return runCondition(action.probe, action.until, ctx, action.intervalMs);
    case 'verify':
      return runCondition(action.probe, action.expect, ctx, undefined);
    case 'verdict':
      return runVerdict(action.checks, ctx);
  }
}
