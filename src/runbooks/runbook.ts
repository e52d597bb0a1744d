import { z } from 'zod';
import type { ClusterConfig } from '../config/normalise-inventory';
import type { Check } from '../core/check';
import type { ProgressReader, SealedPlan } from '../core/plan';
import type { Json } from '../core/json';
import type { Failure } from '../core/run';
import type { RunState } from '../core/run-state';
import type { Dialect } from '../dialects/dialect';
import type { Connector } from '../ports/connector';

// What a runbook is: one folder that says what it asks for, what it reads, how it judges what it
// read and what plan it makes. Front ends (chat, modal, CLI, console, help) are generated from
// this contract; the engine runs the sealed plan and never asks the runbook again.

/** How one input field shows in chat, in the modal and on the command line. */
export interface FieldMeta {
  /** `cluster`: a choice of the inventory's clusters; `list`: repeatable (CLI only). */
  readonly kind: 'cluster' | 'text' | 'number' | 'list';
  /** The modal's label and the help's description. */
  readonly label: string;
  /** The word in usages: `/kingbase add-node <cluster> <host>`. */
  readonly placeholder: string;
  /** Position among the words after the runbook's name in chat (0 = first); absent: an option. */
  readonly position?: number;
  /** Accepted in chat (and the modal) as `key=value` when not positional; default false. */
  readonly chat?: boolean;
  /** CLI flag without `--` (default: the key in kebab-case); a list repeats it. */
  readonly flag?: string;
  /** The modal's input limit. */
  readonly maxLength?: number;
}

/** Field descriptions, attached to the schemas of a runbook's input object (zod registry). */
export const inputFields = z.registry<FieldMeta>();

/** A schema described as an input field (register it as it appears in the object, `.optional()` included). */
export function field<T extends z.ZodType>(schema: T, meta: FieldMeta): T {
  inputFields.add(schema, meta);
  return schema;
}

export interface InputField {
  readonly key: string;
  readonly meta: FieldMeta;
  readonly optional: boolean;
}

export type Resolved<P> = { ok: true; params: P } | { ok: false; failure: Failure };

/** Fixed when the plan is made: what the approvers must be. An inventory may raise it, never lower it. */
export interface ApprovalDemand {
  /** Distinct approvers at least. */
  readonly min: number;
  /** The requester never counts as an approver, whatever the inventory allows. */
  readonly requesterExcluded: boolean;
}

export interface GatherContext {
  readonly dialect: Dialect;
  /** Read-only use only: gather must not change anything. */
  readonly connector: Connector;
  readonly now: Date;
}

export interface PlanInput<P, F> {
  readonly params: P;
  readonly facts: F;
  readonly dialect: Dialect;
  readonly requester: string;
  readonly now: Date;
}

/** A run that has come to an end, as every runbook is told of it (to offer what could follow). */
export interface FinishedRun {
  /** The id of the runbook that made its plan. */
  readonly runbook: string;
  readonly cluster: string;
  /** The plan's params, as the plan records them. */
  readonly params: Readonly<Record<string, Json>>;
  /** Where it ended: succeeded, failed, cancelled, rolled_back or rollback_failed. */
  readonly state: RunState;
  /** Ids of the steps that completed, in order (undone since, when the run was rolled back). */
  readonly stepsDone: readonly string[];
}

/** A new run of the offering runbook, offered as a button in the finished run's thread. */
export interface FollowUp {
  /** The button's text: at most 30 characters ("Plan a failover test"). */
  readonly label: string;
  /** The offering runbook's input, cluster included, checked again when the button is pressed. */
  readonly values: Readonly<Record<string, string | number>>;
}

export interface Runbook<P = unknown, F = unknown> {
  /** The verb: `/kingbase <id>`, `kbops plan <id>`; lower-case letters, digits and -. */
  readonly id: string;
  readonly version: number;
  /** One line for help and lists. */
  readonly summary: string;
  /** The modal's title (at most 24 characters) and submit button. */
  readonly form: { readonly title: string; readonly submit: string };
  /** Everything a person gives; `cluster` is always its first field. Described with `field()`. */
  readonly input: z.ZodObject;
  readonly approvals?: ApprovalDemand;
  /** The checked input against its cluster: defaults filled in; a failure names the field. */
  resolve(input: Record<string, unknown>, cluster: ClusterConfig): Resolved<P>;
  /** Read-only facts the preflight and the plan stand on. */
  gather(params: P, ctx: GatherContext): Promise<F>;
  /** Pure: named results, each failure and warning with a hint. */
  preflight(facts: F, params: P, dialect: Dialect): readonly Check[];
  /** Pure: the sealed plan. Called only when preflight passed. */
  plan(input: PlanInput<P, F>): SealedPlan;
  /**
   * "add srv159 (192.168.4.159) to ESHA": plain text, for lists and thread titles. Before the facts
   * are read (a request just typed) without them; with them for the run's own title.
   */
  subject(params: P, facts?: F): string;
  /** Readers of command output lines a plan's steps name in `progress.kind`. */
  readonly progress?: Readonly<Record<string, ProgressReader>>;
  /**
   * Pure: runs of this runbook worth offering after `done` ends (a run of any runbook, this one
   * included); none by default. Only chat words and options may be given: values a person could
   * type, since pressing the button is checked exactly as typing them.
   */
  followUps?(done: FinishedRun): readonly FollowUp[];
}

/** Any runbook, as the registry and the front ends hold it. */
export type AnyRunbook = Runbook<unknown, unknown>;

/** A runbook's fields in declaration order, with their descriptions. */
export function fieldsOf(runbook: AnyRunbook): InputField[] {
  return Object.entries(runbook.input.shape).map(([key, schema]) => {
    const meta = inputFields.get(schema as z.ZodType);
    if (!meta) throw new Error(`runbook ${runbook.id}: input field ${key} has no field() description`);
    return { key, meta, optional: (schema as z.ZodType).safeParse(undefined).success };
  });
}

/** Positional fields in their order, then the options. */
export const positionalFields = (runbook: AnyRunbook): InputField[] =>
  fieldsOf(runbook)
    .filter((f) => f.meta.position !== undefined)
    .sort((a, b) => a.meta.position! - b.meta.position!);

export const chatOptionFields = (runbook: AnyRunbook): InputField[] =>
  fieldsOf(runbook).filter((f) => f.meta.position === undefined && f.meta.chat === true);

export const flagOf = (f: InputField): string =>
  f.meta.flag ?? f.key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A typed word as the field's value: a number field's value is a number only when it is all digits. */
export const fieldValue = (f: InputField, raw: string): unknown =>
  f.meta.kind === 'number' && /^\d+$/.test(raw) ? Number(raw) : raw;

/** `add-node <cluster> <host> [name=<node>]`: the chat form. */
export function chatUsage(runbook: AnyRunbook): string {
  const words = positionalFields(runbook).map((f) =>
    f.optional ? `[<${f.meta.placeholder}>]` : `<${f.meta.placeholder}>`,
  );
  const options = chatOptionFields(runbook).map((f) => `[${f.key}=<${f.meta.placeholder}>]`);
  return [runbook.id, ...words, ...options].join(' ');
}

/** `add-node --cluster <cluster> --host <host> [--name <node>] [--count-table <table>]…`: the CLI form. */
export function cliUsage(runbook: AnyRunbook): string {
  const flags = fieldsOf(runbook).map((f) => {
    const one = `--${flagOf(f)} <${f.meta.placeholder}>`;
    if (f.meta.kind === 'list') return `[${one}]…`;
    return f.optional ? `[${one}]` : one;
  });
  return [runbook.id, ...flags].join(' ');
}

/** Flags `kbops run` takes for itself, whatever the runbook (a field may not take them). */
const CLI_FLAGS: readonly string[] = ['yes', 'no-rollback', 'approve-as'];

/** What is wrong with a runbook's description (checked by the registry's test and at start). */
export function runbookProblems(runbook: AnyRunbook): string[] {
  const problems: string[] = [];
  const at = `runbook ${runbook.id}`;
  if (!/^[a-z][a-z0-9-]{1,30}$/.test(runbook.id)) problems.push(`${at}: id must be lower-case words with -`);
  if (runbook.form.title.length > 24) problems.push(`${at}: form title over Slack's 24 characters`);
  let fields: InputField[] = [];
  try {
    fields = fieldsOf(runbook);
  } catch (err) {
    return [...problems, (err as Error).message];
  }
  if (fields[0]?.key !== 'cluster' || fields[0].meta.kind !== 'cluster')
    problems.push(`${at}: the first input field must be cluster (kind cluster)`);
  const positions = fields.flatMap((f) => (f.meta.position === undefined ? [] : [f.meta.position]));
  if (positions.some((p, i) => p !== i)) problems.push(`${at}: positions must be 0, 1, 2… in field order`);
  const flags = fields.map(flagOf);
  if (new Set(flags).size !== flags.length) problems.push(`${at}: two fields share a CLI flag`);
  const reserved = flags.filter((f) => CLI_FLAGS.includes(f));
  if (reserved.length > 0) problems.push(`${at}: --${reserved.join(', --')} is the CLI's own flag`);
  if (runbook.approvals && runbook.approvals.min < 1)
    problems.push(`${at}: approvals.min must be at least 1`);
  return problems;
}
