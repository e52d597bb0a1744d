import { nameScripts, type NamedScript } from '../shell/script-names';
import { quote } from '../shell/shell-command';
import type { ApprovalPolicy } from './approval-policy';
import { describeCondition } from './conditions';
import type { Json } from './json';
import type { Action, FileEdit, Probe, SealedPlan, Step, VerdictCheck } from './plan';
import { planIntact } from './plan';

// The plan as the approvers read it: plain text (Slack mrkdwn-friendly), every step with what it
// runs, what it checks, and how it is undone. Deterministic: records are listed in key order, since
// the hash ignores key order and a plan read back from jsonb has its keys reordered.

export interface RenderOptions {
  readonly policy?: ApprovalPolicy;
}

export function renderPlan(plan: SealedPlan, options: RenderOptions = {}): string {
  const out: string[] = [];
  const base = options.policy?.required ?? 1;
  out.push(
    `*Plan ${plan.runbook.id} v${plan.runbook.version}* for cluster *${plan.cluster}* (${plan.dialect})`,
  );
  out.push(`Requested by @${plan.requester} at ${plan.createdAt} · plan ${plan.hash.slice(0, 12)}`);
  if (!planIntact(plan)) out.push('WARNING: this plan does not match its hash. Do not approve it.');
  const params = sortedEntries(plan.params).map(([k, v]) => `${k}=${showJson(v)}`);
  if (params.length > 0) out.push(`Params: ${params.join(', ')}`);
  if (options.policy !== undefined) out.push(`Approval: ${describePolicy(options.policy)}`);

  out.push('', '*Targets*', '```', ...targetTable(plan), '```');

  const guards = plan.guards ?? [];
  if (guards.length > 0) {
    out.push(
      '',
      `*Re-checked before the first change* (at the start, and again on resume or retry: ${guards.length})`,
    );
    for (const g of guards) {
      const until = g.until === undefined ? '' : ` (until step ${g.until} has run)`;
      out.push(
        `- ${g.name} on ${g.target}${until}: ${describeProbe(g.probe)} gives ${describeCondition(g.expect)}`,
      );
    }
  }

  const mutating = plan.steps.filter((s) => s.mutates).length;
  out.push(
    '',
    `*Steps* (${plan.steps.length}: ${mutating} change something, ${plan.steps.length - mutating} read-only)`,
  );
  plan.steps.forEach((step, i) => out.push('', ...renderStep(step, i, base)));
  out.push(...wrapperLegend(wrappersIn(plan)));
  return `${out.map(redact).join('\n')}\n`;
}

function renderStep(step: Step, index: number, base: number): string[] {
  const kind = step.mutates ? 'mutates' : 'read-only';
  const lines = [
    `${index + 1}. *${step.title}* [${step.id}] on ${step.target} · ${kind} · timeout ${duration(step.timeoutMs)}`,
  ];
  const body: string[] = [];
  if (step.approvals !== undefined && step.approvals > base)
    body.push(`!! needs ${step.approvals} approvals before it starts (the plan itself needs ${base})`);
  if (step.note !== undefined) body.push(`why: ${step.note}`);
  if (step.stallMs !== undefined) body.push(`fails if it makes no progress for ${duration(step.stallMs)}`);
  body.push(...describeAction(step.action));
  if (step.undo !== null) {
    if (step.undo.length === 0) body.push('undo: nothing to undo');
    else {
      body.push('undo:');
      for (const a of step.undo) body.push(...bullet(describeAction(a)));
    }
  }
  if (step.effect !== undefined)
    body.push(
      `done when: ${describeProbe(step.effect.probe)} gives ${describeCondition(step.effect.present)}`,
    );
  if (step.idempotent) body.push(IDEMPOTENT_LINE);
  return [...lines, ...indent(body, '   ')];
}

/** How a plan shows a step that is run again after a crash instead of probed. */
export const IDEMPOTENT_LINE = 'after a crash: run again (running it twice does no harm)';

/** One action as lines, the first saying what it does. */
export function describeAction(action: Action): string[] {
  switch (action.kind) {
    case 'ssh': {
      const lines = [`run: ${showArgv(action.argv)}`];
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
        `wait until ${describeCondition(action.until)}, checking every ${duration(action.intervalMs)}:`,
        ...indent(probeLines(action.probe), '  '),
      ];
    case 'verify':
      return [`check ${describeCondition(action.expect)}:`, ...indent(probeLines(action.probe), '  ')];
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
    case 'probe':
      return [
        `${n}. ${c.name} on ${c.target}: ${describeCondition(c.expect)}${wait}`,
        ...indent(probeLines(c.probe), '   '),
      ];
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
  }
}

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

function targetTable(plan: SealedPlan): string[] {
  const rows = [
    ['name', 'host', 'ssh', 'sql', 'database'],
    ...sortedEntries(plan.targets).map(([, t]) => [
      t.name,
      t.host,
      String(t.sshPort),
      String(t.sqlPort),
      t.database ?? '-',
    ]),
  ];
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, c) => cell.padEnd(widths[c] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

function describePolicy(p: ApprovalPolicy): string {
  const who = [...p.approvers.users.map((u) => `@${u}`), ...p.approvers.groups.map((g) => `members of ${g}`)];
  const self = p.allowSelfApproval ? 'the requester may approve' : 'the requester may not approve';
  const ttl = Number.isFinite(p.ttlMs) ? `expires ${duration(p.ttlMs)} after planning` : 'no deadline';
  return `${p.required} approval${p.required === 1 ? '' : 's'} from ${orList(who)} · ${self} · ${ttl}`;
}

function orList(items: readonly string[]): string {
  if (items.length === 0) return 'nobody';
  return items.length === 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1) ?? ''}`;
}

// Plain words stay bare for readability; anything else is shown exactly as the shell would need it.
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;
const showArgv = (argv: readonly string[]): string =>
  nameScripts(argv)
    .argv.map((a) => (PLAIN_WORD.test(a) || /^kbops:[a-z-]+$/.test(a) ? a : quote(a)))
    .join(' ');

/** The kbops wrappers a plan's commands use (steps, undos, probes and guards), in order of use. */
export function wrappersIn(plan: SealedPlan): NamedScript[] {
  const used: NamedScript[] = [];
  const note = (argv: readonly string[]) => {
    for (const w of nameScripts(argv).used) if (!used.includes(w)) used.push(w);
  };
  const probe = (p: Probe) => p.kind === 'ssh' && note(p.argv);
  const action = (a: Action) => {
    if (a.kind === 'ssh') note(a.argv);
    if (a.kind === 'wait-until' || a.kind === 'verify') probe(a.probe);
  };
  for (const g of plan.guards ?? []) probe(g.probe);
  for (const step of plan.steps) {
    action(step.action);
    step.undo?.forEach(action);
    if (step.effect) probe(step.effect.probe);
  }
  return used;
}

/** What each wrapper does and its exact text, for the end of a plan. */
export function wrapperLegend(used: readonly NamedScript[]): string[] {
  if (used.length === 0) return [];
  return [
    '',
    `*kbops wrappers* (kbops:NAME args… stands for sh -c '<text>' sh args…; the arguments reach the text as data, never as shell code)`,
    ...used.flatMap((w) => [`- kbops:${w.name}: ${w.about}`, `  text: ${w.text}`]),
  ];
}

const showJson = (v: Json): string => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

// Secrets belong on stdin, never in a plan; should one slip into a file or command, approvers and the
// Slack channel still do not see it (e.g. `password=` inside recovery.conf's primary_conninfo).
const redact = (line: string): string =>
  line.replace(/(password\s*=\s*)('[^']*'|"[^"]*"|[^\s'"]+)/gi, '$1***');

function sortedEntries<T>(record: Readonly<Record<string, T>>): [string, T][] {
  return Object.keys(record)
    .sort()
    .map((k) => [k, record[k] as T]);
}

const indent = (lines: readonly string[], by: string): string[] => lines.map((l) => (l === '' ? l : by + l));

function bullet(lines: readonly string[]): string[] {
  return lines.map((l, i) => (i === 0 ? `- ${l}` : `  ${l}`));
}

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
