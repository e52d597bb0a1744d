import { z } from 'zod';
import type { Condition, FileEdit, SealedPlan } from './plan';
import { planIntact, SECRET_NAMES } from './plan';
import { planProblems } from './plan-problems';

export { planProblems } from './plan-problems';

// Plans come back from storage and out of runbooks: both are checked here before anything runs one.
// Objects are strict, since an unknown key would be hashed yet ignored by the executor.

const SHA256 = /^[0-9a-f]{64}$/;
const sha256 = z.string().regex(SHA256, { message: 'must be a sha256 hex digest' });
const positiveMs = z.number().int().positive({ message: 'must be more than 0 ms' });
const json = z.json();

export const probeSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('sql'),
    sql: z.string().min(1),
    params: z.array(json),
    database: z.string().min(1).optional(),
  }),
  z.strictObject({ kind: z.literal('ssh'), argv: z.array(z.string()).min(1) }),
  z.strictObject({ kind: z.literal('file'), path: z.string().startsWith('/') }),
]);

export const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('exit-code'), equals: z.number().int() }),
    z.strictObject({
      kind: z.literal('row-count'),
      min: z.number().int().nonnegative().optional(),
      max: z.number().int().nonnegative().optional(),
    }),
    z.strictObject({ kind: z.literal('column-equals'), column: z.string().min(1), value: json }),
    z.strictObject({ kind: z.literal('column-at-least'), column: z.string().min(1), value: z.number() }),
    z.strictObject({ kind: z.literal('stdout-matches'), pattern: z.string() }),
    z.strictObject({ kind: z.literal('file-sha'), sha256: sha256.nullable() }),
    z.strictObject({ kind: z.literal('some-row'), where: z.record(z.string().min(1), json) }),
    z.strictObject({ kind: z.literal('all'), of: z.array(conditionSchema) }),
    z.strictObject({ kind: z.literal('any'), of: z.array(conditionSchema) }),
    z.strictObject({ kind: z.literal('not'), of: conditionSchema }),
  ]),
);

export const fileEditSchema: z.ZodType<FileEdit> = z.lazy(() =>
  z.discriminatedUnion('type', [
    z.strictObject({ type: z.literal('replace'), content: z.string() }),
    z.strictObject({ type: z.literal('set-keys'), entries: z.record(z.string(), z.string()) }),
    z.strictObject({ type: z.literal('unset-keys'), keys: z.array(z.string()) }),
    z.strictObject({ type: z.literal('append-lines'), lines: z.array(z.string()) }),
    z.strictObject({ type: z.literal('remove-lines'), lines: z.array(z.string()) }),
    z.strictObject({ type: z.literal('shell-array-add'), name: z.string(), values: z.array(z.string()) }),
    z.strictObject({ type: z.literal('shell-array-remove'), name: z.string(), values: z.array(z.string()) }),
    z.strictObject({ type: z.literal('shell-var-set'), name: z.string(), value: z.string() }),
    z.strictObject({ type: z.literal('edits'), edits: z.array(fileEditSchema).min(1) }),
  ]),
);

const verdictCheckSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('probe'),
    name: z.string().min(1),
    target: z.string().min(1),
    probe: probeSchema,
    expect: conditionSchema,
    waitMs: z.number().int().min(0),
    measure: z.string().min(1).optional(),
    gate: z.literal(true).optional(),
    failed: z
      .strictObject({
        says: z.string().min(1),
        explain: z.strictObject({ target: z.string().min(1), argv: z.array(z.string()).min(1) }).optional(),
      })
      .optional(),
  }),
  z.strictObject({
    kind: z.literal('catch-up'),
    name: z.string().min(1),
    primary: z.string().min(1),
    standby: z.string().min(1),
    positionSql: z.string().min(1),
    caughtUpSql: z.string().min(1),
    waitMs: z.number().int().min(0),
  }),
  z.strictObject({
    kind: z.literal('rows'),
    name: z.string().min(1),
    primary: z.string().min(1),
    standby: z.string().min(1),
    countSql: z.string().min(1),
    standbyCountSql: z.string().min(1),
    caughtUpSql: z.string().min(1),
    database: z.string().min(1).optional(),
    waitMs: z.number().int().min(0),
  }),
  z.strictObject({
    kind: z.literal('lost-rows'),
    name: z.string().min(1),
    target: z.string().min(1),
    countSql: z.string().min(1),
    acknowledged: z.number().int().nonnegative(),
    database: z.string().min(1).optional(),
    waitMs: z.number().int().min(0),
  }),
]);

export const actionSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('ssh'),
    argv: z.array(z.string()).min(1),
    stdinSecret: z.enum(SECRET_NAMES).optional(),
    okExitCodes: z.array(z.number().int()).min(1).optional(),
    refusedExitCodes: z.array(z.number().int().min(1)).min(1).optional(),
    progress: z.strictObject({ kind: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/) }).optional(),
    on: z.string().min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal('sql'),
    sql: z.string().min(1),
    params: z.array(json),
    database: z.string().min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal('file-edit'),
    path: z.string().startsWith('/'),
    expectedSha256: sha256.nullable(),
    edit: fileEditSchema,
    backup: z.string().startsWith('/').optional(),
    mode: z.number().int().min(0).max(0o7777).optional(),
    secrets: z
      .array(
        z.strictObject({
          token: z.string().min(8),
          secret: z.enum(SECRET_NAMES),
          encoding: z.enum(['plain', 'base64', 'conninfo']),
        }),
      )
      .optional(),
  }),
  z.strictObject({
    kind: z.literal('file-restore'),
    path: z.string().startsWith('/'),
    editStepId: z.string(),
  }),
  z.strictObject({
    kind: z.literal('wait-until'),
    probe: probeSchema,
    until: conditionSchema,
    intervalMs: positiveMs,
    on: z.string().min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal('verify'),
    probe: probeSchema,
    expect: conditionSchema,
    on: z.string().min(1).optional(),
  }),
  z.strictObject({ kind: z.literal('verdict'), checks: z.array(verdictCheckSchema).min(1) }),
]);

export const stepSchema = z.strictObject({
  id: z.string().min(1),
  title: z.string().min(1),
  target: z.string().min(1),
  action: actionSchema,
  timeoutMs: positiveMs,
  mutates: z.boolean(),
  undo: z.array(actionSchema).nullable(),
  effect: z.strictObject({ probe: probeSchema, present: conditionSchema }).optional(),
  idempotent: z.literal(true).optional(),
  stallMs: positiveMs.optional(),
  approvals: z.number().int().min(1).optional(),
  note: z.string().optional(),
});

export const guardSchema = z.strictObject({
  name: z.string().min(1),
  target: z.string().min(1),
  probe: probeSchema,
  expect: conditionSchema,
  until: z.string().min(1).optional(),
});

export const targetSchema = z.strictObject({
  name: z.string().min(1),
  host: z.string().min(1),
  sshPort: z.number().int().min(1).max(65535),
  sqlPort: z.number().int().min(1).max(65535),
  sqlHost: z.string().min(1).optional(),
  database: z.string().min(1).optional(),
});

export const sealedPlanSchema = z.strictObject({
  formatVersion: z.literal(1),
  runbook: z.strictObject({ id: z.string().min(1), version: z.number().int().nonnegative() }),
  cluster: z.string().min(1),
  dialect: z.string().min(1),
  params: z.record(z.string(), json),
  requester: z.string().min(1),
  createdAt: z.iso.datetime({ offset: true, message: 'must be an ISO date-time' }),
  targets: z.record(z.string(), targetSchema),
  snapshot: json,
  guards: z.array(guardSchema).optional(),
  approvals: z
    .strictObject({ min: z.number().int().min(1).max(10), requesterExcluded: z.boolean() })
    .optional(),
  rollbackOnFailure: z.literal(true).optional(),
  steps: z.array(stepSchema),
  hash: sha256,
});

export type ParsePlanResult = { ok: true; plan: SealedPlan } | { ok: false; problems: string[] };

/** Validates shape, then the rules that span fields, then the hash. Never throws. */
export function parsePlan(input: unknown): ParsePlanResult {
  const parsed = sealedPlanSchema.safeParse(input);
  if (!parsed.success)
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
    };
  const plan: SealedPlan = parsed.data;
  const problems = planProblems(plan);
  if (!planIntact(plan))
    problems.push('hash: the plan does not match its hash (it was changed after sealing)');
  return problems.length === 0 ? { ok: true, plan } : { ok: false, problems };
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'plan';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}
