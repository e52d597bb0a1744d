import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { applyEdit } from '../core/file-edits';
import type { Action, SealedPlan } from '../core/plan';
import type { StepOutcome } from '../core/run';
import { quoteConfigValue, quoteConninfoValue } from '../dialects/dialect';
import type { Connector } from '../ports/connector';
import { cmd } from '../shell/shell-command';
import { failure, tail } from './action-outcome';
import type { ActionContext } from './run-action';

// File edits and their undo. An edit keeps the content before and the sha256 of what it wrote, so
// its undo restores a file only while it is still exactly what this run wrote.

const encodeSecret = (value: string, encoding: 'plain' | 'base64' | 'conninfo'): string =>
  encoding === 'base64'
    ? Buffer.from(value, 'utf8').toString('base64')
    : encoding === 'conninfo'
      ? quoteConfigValue(quoteConninfoValue(value)).slice(1, -1)
      : value;

/** Where a file-edit keeps the file's previous content, so that its undo can put it back. */
export const backupPath = (plan: SealedPlan, path: string, stepId: string): string =>
  `${path}.kbops-${plan.hash.slice(0, 12)}-${stepId}.bak`;

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

export async function runFileEdit(
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

export async function runFileRestore(
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
