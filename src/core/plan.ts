import { sha256Json, type Json } from './json';

// A plan is data: everything the executor will do, fixed when the plan is made and hashed. The
// executor runs what the plan says and never re-derives it; approvals bind to the hash.

/** A host a plan acts on, with everything needed to reach it (no secrets: those are resolved at run time). */
export interface Target {
  readonly name: string;
  readonly host: string;
  readonly sshPort: number;
  readonly sqlPort: number;
  /** Where SQL goes when not to `host`, e.g. a pool's listen address or VIP. */
  readonly sqlHost?: string;
  readonly database?: string;
}

/** Names of secrets the executor may hand to a step (on stdin, never on a command line). */
export const SECRET_NAMES = ['db.password', 'pcp.password'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];

/** Read-only observation of a target, used by wait-until, verify and resume probes. */
export type Probe =
  | {
      readonly kind: 'sql';
      readonly sql: string;
      readonly params: readonly Json[];
      readonly database?: string;
    }
  | { readonly kind: 'ssh'; readonly argv: readonly string[] }
  | { readonly kind: 'file'; readonly path: string };

/** What a probe observed. */
export type Observation =
  | { readonly kind: 'sql'; readonly rows: readonly Record<string, Json>[] }
  | {
      readonly kind: 'ssh';
      readonly exitCode: number | null;
      readonly stdout: string;
      readonly stderr: string;
    }
  | { readonly kind: 'file'; readonly sha256: string | null };

/** A test on an observation; pure, evaluated by core/conditions. */
export type Condition =
  | { readonly kind: 'exit-code'; readonly equals: number }
  | { readonly kind: 'row-count'; readonly min?: number; readonly max?: number }
  | { readonly kind: 'column-equals'; readonly column: string; readonly value: Json }
  | { readonly kind: 'column-at-least'; readonly column: string; readonly value: number }
  | { readonly kind: 'stdout-matches'; readonly pattern: string }
  | { readonly kind: 'file-sha'; readonly sha256: string | null }
  /** Some row has every given column equal to its value (numbers and their text compare equal). */
  | { readonly kind: 'some-row'; readonly where: Readonly<Record<string, Json>> }
  | { readonly kind: 'all'; readonly of: readonly Condition[] }
  | { readonly kind: 'any'; readonly of: readonly Condition[] }
  | { readonly kind: 'not'; readonly of: Condition };

/** A structured, idempotent edit of a text file (applied by core/file-edits). */
export type FileEdit =
  | { readonly type: 'replace'; readonly content: string }
  | { readonly type: 'set-keys'; readonly entries: Readonly<Record<string, string>> } // key = value files
  | { readonly type: 'unset-keys'; readonly keys: readonly string[] }
  | { readonly type: 'append-lines'; readonly lines: readonly string[] } // only lines not already present
  | { readonly type: 'remove-lines'; readonly lines: readonly string[] }
  | { readonly type: 'shell-array-add'; readonly name: string; readonly values: readonly string[] } // NAME=(a b)
  | { readonly type: 'shell-array-remove'; readonly name: string; readonly values: readonly string[] }
  | { readonly type: 'shell-var-set'; readonly name: string; readonly value: string } // NAME="v"
  | { readonly type: 'edits'; readonly edits: readonly FileEdit[] }; // several, in order

/** A secret put into a file's new content where `token` stands (the plan itself never holds secrets). */
export interface SecretInsert {
  readonly token: string;
  readonly secret: SecretName;
  /** plain; base64 (V8R3's primary_conninfo); conninfo: quoted for a conninfo inside a quoted config value. */
  readonly encoding: 'plain' | 'base64' | 'conninfo';
}

/** One part of a verdict: every check is run and shown, pass or fail. Waits count as measured delay. */
export type VerdictCheck =
  | {
      readonly kind: 'probe';
      readonly name: string;
      readonly target: string;
      readonly probe: Probe;
      readonly expect: Condition;
      readonly waitMs: number;
      /**
       * What the wait measures (e.g. 'failover time'): a pass then reports how long it took. A pass at
       * the first look measured nothing (it was already so, e.g. after a resume) and says so.
       */
      readonly measure?: string;
      /** The checks after it mean nothing if it fails (no promotion: nothing to look at): not run then. */
      readonly gate?: true;
      /**
       * When it fails: what that means in plain words ("failover did NOT happen within 60 s"), and a
       * read-only command whose last lines say why (the manager's log), shown with it.
       */
      readonly failed?: {
        readonly says: string;
        readonly explain?: { readonly target: string; readonly argv: readonly string[] };
      };
    }
  | {
      /** Take the primary's WAL position, then wait until the standby has replayed up to it. */
      readonly kind: 'catch-up';
      readonly name: string;
      readonly primary: string;
      readonly standby: string;
      readonly positionSql: string; // one row, column "position"
      readonly caughtUpSql: string; // $1 = position; one row, boolean column "caught_up"
      readonly waitMs: number;
    }
  | {
      /** Count on the primary, wait for the standby to replay past that, count there: nothing missing. */
      readonly kind: 'rows';
      readonly name: string;
      readonly primary: string;
      readonly standby: string;
      readonly countSql: string; // one row, column "n", plus column "position"
      readonly standbyCountSql: string; // one row, column "n"
      readonly caughtUpSql: string;
      readonly database?: string;
      readonly waitMs: number;
    }
  | {
      /**
       * How many rows the old primary acknowledged are missing after a failover. A loss is reported,
       * not failed: with asynchronous replication it is what the drill measures. Only a count that
       * cannot be read fails the check (an unknown is never a pass). Retried until waitMs on errors.
       */
      readonly kind: 'lost-rows';
      readonly name: string;
      readonly target: string;
      readonly countSql: string; // one row, column "n": how many of the acknowledged rows are present
      readonly acknowledged: number;
      readonly database?: string;
      readonly waitMs: number;
    };

/** How to read progress out of a command's output lines: a reader a runbook contributes, by name. */
export type ProgressParser = { readonly kind: string };

/** Reads one output line; undefined when the line says nothing about progress. */
export type ProgressReader = (line: string) => { percent?: number; message: string } | undefined;

export type Action =
  | {
      readonly kind: 'ssh';
      readonly argv: readonly string[];
      /** The secret is written to the command's stdin; the command must read it from there. */
      readonly stdinSecret?: SecretName;
      readonly okExitCodes?: readonly number[];
      /**
       * Exit codes by which the command says it refused and changed nothing (e.g. the path it would
       * create already exists). Such a failure has nothing of this step's to undo.
       */
      readonly refusedExitCodes?: readonly number[];
      readonly progress?: ProgressParser;
      /** Run on this plan target instead of the step's (e.g. a pool's pcp tool in a data node's undo). */
      readonly on?: string;
    }
  | {
      readonly kind: 'sql';
      readonly sql: string;
      readonly params: readonly Json[];
      readonly database?: string;
    }
  | {
      readonly kind: 'file-edit';
      readonly path: string;
      /** sha256 of the file when the plan was made (null: it did not exist). A changed file is refused. */
      readonly expectedSha256: string | null;
      readonly edit: FileEdit;
      /**
       * Where the previous content is kept (and, beside it in `<backup>.meta`, its mode and the sha256
       * of what was written, which the undo checks). Outside every data directory, so no base backup
       * copies it. Absent in plans made before kbops kept backups apart: next to the file.
       */
      readonly backup?: string;
      readonly mode?: number;
      /** Secrets the executor writes into the new content in place of their tokens. */
      readonly secrets?: readonly SecretInsert[];
    }
  | {
      /** Undo of a file-edit: put back the backup the edit kept (or remove a file the edit created). */
      readonly kind: 'file-restore';
      readonly path: string;
      readonly editStepId: string;
    }
  | {
      readonly kind: 'wait-until';
      readonly probe: Probe;
      readonly until: Condition;
      readonly intervalMs: number;
      /** Key into Plan.targets: probe this target instead of the step's (e.g. another host's role). */
      readonly on?: string;
    }
  | {
      readonly kind: 'verify';
      readonly probe: Probe;
      readonly expect: Condition;
      /**
       * Key into Plan.targets: check a fact on another host than the step's, e.g. an undo that first
       * makes sure the new primary is still in recovery before starting the old one again.
       */
      readonly on?: string;
    }
  | { readonly kind: 'verdict'; readonly checks: readonly VerdictCheck[] };

export interface Step {
  readonly id: string;
  readonly title: string;
  /** Key into Plan.targets. */
  readonly target: string;
  readonly action: Action;
  readonly timeoutMs: number;
  readonly mutates: boolean;
  /** What reverses this step, run in order on the same target; null exactly when !mutates. */
  readonly undo: readonly Action[] | null;
  /**
   * Tells whether the step's effect is present (for resume after a crash); required when mutates,
   * unless the step is idempotent.
   */
  readonly effect?: { readonly probe: Probe; readonly present: Condition };
  /**
   * Running it again does no harm (a reload) and its effect cannot be read back reliably: after a
   * crash it is run again rather than probed.
   */
  readonly idempotent?: true;
  /**
   * Steps that report progress (a base backup) are judged by it: no progress for this long is a
   * stall and fails the step, while timeoutMs is only the outer bound.
   */
  readonly stallMs?: number;
  /** Approvals this step needs before it may start, above the plan's policy (e.g. 2 for a failover). */
  readonly approvals?: number;
  /** Why this step is there, for the humans reading the plan. */
  readonly note?: string;
}

/**
 * A fact the plan stands on, read again whenever a run starts, resumes or retries, before any
 * step runs: a plan approved for one cluster must not run against another.
 */
export interface Guard {
  /** What must still hold, for humans: "srv13's data directory does not exist". */
  readonly name: string;
  readonly target: string;
  readonly probe: Probe;
  readonly expect: Condition;
  /** The step that changes this fact: once it has completed, the guard is not checked again. */
  readonly until?: string;
}

export interface Plan {
  readonly formatVersion: 1;
  readonly runbook: { readonly id: string; readonly version: number };
  readonly cluster: string;
  readonly dialect: string;
  readonly params: Readonly<Record<string, Json>>;
  readonly requester: string;
  readonly createdAt: string; // ISO
  readonly targets: Readonly<Record<string, Target>>;
  /** What the planner saw (pool nodes, replication, file checksums…), to detect drift before running. */
  readonly snapshot: Json;
  /** Re-checked before the first change (absent in plans made before guards existed). */
  readonly guards?: readonly Guard[];
  /**
   * What the runbook demands of the approvers, bound to the hash: an inventory may raise it,
   * never lower it (absent: the inventory's policy alone).
   */
  readonly approvals?: { readonly min: number; readonly requesterExcluded: boolean };
  /**
   * A failed step is rolled back at once whatever the inventory's autoRollback says: a plan that
   * leaves the cluster worse than before when it stops half-way (a drill that stopped the primary)
   * must be put back, not wait for a decision. Absent in plans made before it existed.
   */
  readonly rollbackOnFailure?: true;
  readonly steps: readonly Step[];
}

export interface SealedPlan extends Plan {
  readonly hash: string;
}

export const hashPlan = (plan: Plan): string => sha256Json(plan as unknown as Json);

export function sealPlan(plan: Plan): SealedPlan {
  const { hash: _drop, ...rest } = plan as SealedPlan;
  return { ...rest, hash: hashPlan(rest) };
}

/** True when the plan is exactly what was hashed (nothing edited after approval). */
export function planIntact(plan: SealedPlan): boolean {
  const { hash, ...rest } = plan;
  return hashPlan(rest) === hash;
}

/** Approvals a run needs before step `index` may start. */
export const approvalsNeededAt = (plan: Plan, base: number, index: number): number =>
  Math.max(base, plan.steps[index]?.approvals ?? 0);
