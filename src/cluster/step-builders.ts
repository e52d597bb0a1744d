import type { Action, Condition, FileEdit, Probe, SecretInsert, Step } from '../core/plan';
import type { FileFact } from './cluster-facts';

// Small builders for a plan's steps, so a runbook's plan reads as a list of intentions. A step
// either only reads (`readOnly`: waits, verdicts) or changes something (`change`, `editFile`): then
// it says how it is undone and how its effect is seen after a crash, and plans count it as a change.

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** No progress for this long fails a copy (a base backup reports at least every few seconds). */
export const STALL_MS = 10 * MINUTE;

export const exitZero: Condition = { kind: 'exit-code', equals: 0 };

/** A step that changes nothing: a wait, a check, a verdict. */
export function readOnly(
  id: string,
  title: string,
  target: string,
  action: Action,
  timeoutMs = MINUTE,
  note?: string,
): Step {
  return {
    id,
    title,
    target,
    action,
    timeoutMs,
    mutates: false,
    undo: null,
    ...(note !== undefined && { note }),
  };
}

/**
 * A step that changes something: what reverses it (`[]` when an earlier step's undo already does,
 * say so in the note) and the probe that tells whether its effect is present (read after a crash;
 * it must stay present while the later steps of the plan run).
 */
export function change(
  id: string,
  title: string,
  target: string,
  action: Action,
  undo: readonly Action[],
  effect: { probe: Probe; present: Condition },
  options: { timeoutMs?: number; note?: string } = {},
): Step {
  return { ...mutating(id, title, target, action, options), undo, effect };
}

/** What every mutating step has: the action, its bound, and why it is there. */
const mutating = (
  id: string,
  title: string,
  target: string,
  action: Action,
  options: { timeoutMs?: number; note?: string },
) => ({
  id,
  title,
  target,
  action,
  timeoutMs: options.timeoutMs ?? MINUTE,
  mutates: true,
  ...(options.note !== undefined && { note: options.note }),
});

/**
 * A change that is harmless to repeat and cannot be read back reliably (a pool's reload: a backend
 * it was told about stays listed until a restart): run again after a crash instead of probed.
 */
export function repeatable(
  id: string,
  title: string,
  target: string,
  action: Action,
  options: { timeoutMs?: number; note?: string } = {},
): Step {
  return { ...mutating(id, title, target, action, options), undo: [], idempotent: true };
}

/** A guarded, backed-up edit of a file; undone by putting the backup back (then `after`, e.g. a reload). */
export function editFile(
  id: string,
  title: string,
  target: string,
  file: FileFact,
  edit: FileEdit,
  options: {
    mode?: number;
    secrets?: readonly SecretInsert[];
    after?: readonly Action[];
    note?: string;
  } = {},
): Step {
  const action: Action = {
    kind: 'file-edit',
    path: file.path,
    expectedSha256: file.sha256,
    edit,
    ...(options.mode !== undefined && { mode: options.mode }),
    ...(options.secrets && { secrets: options.secrets }),
  };
  return change(
    id,
    title,
    target,
    action,
    [{ kind: 'file-restore', path: file.path, editStepId: id }, ...(options.after ?? [])],
    // Present: the file is no longer what the planner saw.
    {
      probe: { kind: 'file', path: file.path },
      present: { kind: 'not', of: { kind: 'file-sha', sha256: file.sha256 } },
    },
    options.note !== undefined ? { note: options.note } : {},
  );
}

export const sql = (text: string, params: readonly (string | number | boolean)[] = []): Action => ({
  kind: 'sql',
  sql: text,
  params,
});

export const ssh = (
  argv: readonly string[],
  extra: Partial<Extract<Action, { kind: 'ssh' }>> = {},
): Action => ({
  kind: 'ssh',
  argv,
  ...extra,
});

/** `host/32` for an IPv4 address; a host name as it is (hba matches names by reverse lookup). */
export const hbaAddress = (host: string): string => (/^\d+\.\d+\.\d+\.\d+$/.test(host) ? `${host}/32` : host);

/** key = value entries as the lines of a small config file (recovery.conf). */
export const confLines = (entries: Readonly<Record<string, string>>): string =>
  Object.entries(entries)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n') + '\n';
