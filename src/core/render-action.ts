import { nameScripts } from '../shell/script-names';
import { quote } from '../shell/shell-command';
import { describeCondition } from './conditions';
import type { Json } from './json';
import type { Action, FileEdit, Probe, VerdictCheck } from './plan';

// One action of a plan as the approvers read it (a step's action, an undo, a verdict's checks), for
// the plan text (render-plan), the plan in the thread and the run's progress. Plain text, Slack
// mrkdwn-friendly; records in key order, since a plan read back from jsonb has its keys reordered.

/** One action as lines, the first saying what it does. */
export function describeAction(action: Action): string[] {
  switch (action.kind) {
    case 'ssh': {
      const lines = [`run${action.on === undefined ? '' : ` on ${action.on}`}: ${showArgv(action.argv)}`];
      if (action.stdinSecret !== undefined) lines.push(`  (${action.stdinSecret} is given on stdin)`);
      if (action.okExitCodes !== undefined)
        lines.push(`  succeeds on exit codes ${action.okExitCodes.join(', ')}`);
      if (action.refusedExitCodes !== undefined)
        lines.push(`  refuses, changing nothing, with exit code ${action.refusedExitCodes.join(', ')}`);
      if (action.progress !== undefined) lines.push(`  reports ${action.progress.kind} progress`);
      return lines;
    }
    case 'sql':
      return sqlLines('sql', action.sql, action.params, action.database);
    case 'file-edit': {
      const mode = action.mode === undefined ? '' : ` (mode ${action.mode.toString(8).padStart(4, '0')})`;
      const guard =
        action.expectedSha256 === null
          ? 'creates it: it must not exist yet'
          : `only if unchanged since planning (sha256 ${action.expectedSha256.slice(0, 12)})`;
      const secrets = (action.secrets ?? []).map(
        (s) =>
          `  (${s.secret}${s.encoding === 'base64' ? ', base64-encoded,' : ''} is written where ${s.token} stands)`,
      );
      const backup =
        action.backup === undefined ? [] : [`  (the content before is kept in ${action.backup})`];
      return [
        `edit ${action.path}${mode}, ${guard}`,
        ...indent(describeEdit(action.edit), '  '),
        ...secrets,
        ...backup,
      ];
    }
    case 'file-restore':
      return [
        `restore ${action.path} from the backup kept by step ${action.editStepId}, only while it is what that step wrote`,
      ];
    case 'wait-until':
      return [
        `wait until ${describeCondition(action.until)}${onOther(action.on)}, checking every ${duration(action.intervalMs)}:`,
        ...indent(probeLines(action.probe), '  '),
      ];
    case 'verify':
      return [
        `check ${describeCondition(action.expect)}${onOther(action.on)}:`,
        ...indent(probeLines(action.probe), '  '),
      ];
    case 'verdict':
      return [
        `verdict of ${action.checks.length} checks, every one shown:`,
        ...action.checks.flatMap((c, i) => indent(verdictCheckLines(c, i + 1), '  ')),
      ];
  }
}

function describeEdit(edit: FileEdit): string[] {
  switch (edit.type) {
    case 'replace': {
      const lines = edit.content.replace(/\r?\n$/, '').split(/\r?\n/);
      const n = edit.content === '' ? 0 : lines.length;
      return [
        `replace the whole file with (${n} line${n === 1 ? '' : 's'}):`,
        ...(n === 0 ? [] : lines.map((l) => `| ${l}`)),
      ];
    }
    case 'set-keys':
      return sortedEntries(edit.entries).map(([k, v]) => `set ${k} = ${v}`);
    case 'unset-keys':
      return edit.keys.map((k) => `unset ${k}`);
    case 'append-lines':
      return edit.lines.map((l) => `+ ${l}`);
    case 'remove-lines':
      return edit.lines.map((l) => `- ${l}`);
    case 'shell-array-add':
      return [`add to ${edit.name}=( … ): ${edit.values.join(' ')}`];
    case 'shell-array-remove':
      return [`remove from ${edit.name}=( … ): ${edit.values.join(' ')}`];
    case 'shell-var-set':
      return [`set ${edit.name}="${edit.value}"`];
    case 'edits':
      return edit.edits.flatMap(describeEdit);
  }
}

function verdictCheckLines(c: VerdictCheck, n: number): string[] {
  const wait = c.waitMs > 0 ? ` (waits up to ${duration(c.waitMs)})` : '';
  switch (c.kind) {
    case 'probe': {
      const measure =
        (c.measure === undefined ? '' : `; measures ${c.measure}`) +
        (c.gate ? '; if it fails, the checks after it are not run' : '');
      return [
        `${n}. ${c.name} on ${c.target}: ${describeCondition(c.expect)}${wait}${measure}`,
        ...indent(probeLines(c.probe), '   '),
        ...(c.failed
          ? [
              `   if it fails: "${c.failed.says}"`,
              ...(c.failed.explain
                ? [
                    `   and the last lines of: ${showArgv(c.failed.explain.argv)} on ${c.failed.explain.target}`,
                  ]
                : []),
            ]
          : []),
      ];
    }
    case 'catch-up':
      return [
        `${n}. ${c.name}: ${c.standby} replays up to ${c.primary}'s position at the start of the check${wait}`,
        ...indent(
          [...sqlLines('position', c.positionSql, []), ...sqlLines('caught up', c.caughtUpSql, [])],
          '   ',
        ),
      ];
    case 'rows':
      return [
        `${n}. ${c.name}: ${c.standby} has every row ${c.primary} had${wait}`,
        ...indent(
          [...sqlLines('count', c.countSql, [], c.database), ...sqlLines('standby', c.standbyCountSql, [])],
          '   ',
        ),
      ];
    case 'lost-rows':
      return [
        `${n}. ${c.name} on ${c.target}: how many of the ${c.acknowledged} acknowledged rows are lost${wait}; a loss is reported, only a count that cannot be read fails`,
        ...indent(sqlLines('count', c.countSql, [], c.database), '   '),
      ];
  }
}

/** Where a probe runs when not on the step's own target. */
const onOther = (on: string | undefined): string => (on === undefined ? '' : ` on ${on}`);

function probeLines(probe: Probe): string[] {
  switch (probe.kind) {
    case 'sql':
      return sqlLines('sql', probe.sql, probe.params, probe.database);
    case 'ssh':
      return [`run: ${showArgv(probe.argv)}`];
    case 'file':
      return [`read ${probe.path}`];
  }
}

/** A probe on one line (multi-line SQL is folded). */
export function describeProbe(probe: Probe): string {
  return probeLines(probe)
    .map((l) => l.trim())
    .join(' ')
    .replace(/\s+/g, ' ');
}

function sqlLines(label: string, sql: string, params: readonly Json[], database?: string): string[] {
  const [first = '', ...rest] = sql.trim().split(/\r?\n/);
  const db = database === undefined ? '' : ` (database ${database})`;
  const lines = [`${label}${db}: ${first}`, ...rest.map((l) => `  ${l}`)];
  if (params.length > 0)
    lines.push(`  with ${params.map((p, i) => `$${i + 1} = ${showJson(p)}`).join(', ')}`);
  return lines;
}

// Plain words stay bare for readability; anything else is shown exactly as the shell would need it.
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
const showArgv = (argv: readonly string[]): string =>
  nameScripts(argv)
    .argv.map((a) => (PLAIN_WORD.test(a) || /^kbops:[a-z-]+$/.test(a) ? a : quote(a)))
    .join(' ');

export const showJson = (v: Json): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

export function sortedEntries<T>(record: Readonly<Record<string, T>>): [string, T][] {
  return Object.keys(record)
    .sort()
    .map((k) => [k, record[k] as T]);
}

export const indent = (lines: readonly string[], by: string): string[] =>
  lines.map((l) => (l === '' ? l : by + l));

/** 500ms, 1.5s, 30s, 2m, 1h30m. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return 'forever';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 60_000 && ms % 1000 !== 0) return `${ms / 1000}s`;
  const s = Math.round(ms / 1000);
  const parts: [number, string][] = [
    [Math.floor(s / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'm'],
    [s % 60, 's'],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, u]) => `${n}${u}`)
    .join('');
}
