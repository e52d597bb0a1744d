import { sealPlan, type Plan, type Step } from '../../../src/core/plan';
import { parsePlan, planProblems } from '../../../src/core/plan-schema';
import { samplePlan, samplePlanUnsealed } from './sample-plan';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// Builds a variant of the sample plan, sealed so that only the rule under test can fail.
function variant(change: (plan: Mutable<Plan>, steps: Mutable<Step>[]) => void): unknown {
  const plan = structuredClone(samplePlanUnsealed()) as Mutable<Plan>;
  const steps = plan.steps as Mutable<Step>[];
  change(plan, steps);
  return sealPlan(plan);
}

function problems(input: unknown): string[] {
  const r = parsePlan(input);
  if (r.ok) throw new Error('expected the plan to be refused');
  return r.problems;
}

const stepIndex = (id: string): number => samplePlanUnsealed().steps.findIndex((s) => s.id === id);

describe('parsePlan', () => {
  it('accepts the sample plan, also after a JSON round trip (as read back from storage)', () => {
    const plan = samplePlan();
    expect(parsePlan(plan)).toEqual({ ok: true, plan });
    const r = parsePlan(JSON.parse(JSON.stringify(plan)));
    expect(r.ok && r.plan.hash).toBe(plan.hash);
  });

  it('refuses what is not a plan at all, without throwing', () => {
    expect(problems(null)).toEqual(['plan: Invalid input: expected object, received null']);
    expect(problems('plan').length).toBeGreaterThan(0);
    expect(problems({})).toContain('formatVersion: Invalid input: expected 1');
  });

  it('names the path of a shape problem', () => {
    const p = problems(
      variant((_, steps) => {
        (steps[1] as unknown as { action: { kind: string } }).action.kind = 'telnet';
      }),
    );
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^steps\[1\]\.action\.kind: /);
  });

  it('refuses unknown keys (they would be hashed but ignored)', () => {
    const p = problems(variant((_, steps) => Object.assign(steps[0] as object, { retries: 3 })));
    expect(p).toEqual([expect.stringMatching(/^steps\[0\]: Unrecognized key: "retries"/)]);
  });

  it('requires an ISO creation time', () => {
    expect(
      problems(
        variant((plan) => {
          plan.createdAt = 'May 1 2024';
        }),
      ),
    ).toEqual(['createdAt: must be an ISO date-time']);
  });

  it('refuses a plan whose hash does not match', () => {
    expect(problems({ ...samplePlan(), requester: 'UEVE' })).toEqual([
      'hash: the plan does not match its hash (it was changed after sealing)',
    ]);
    expect(problems({ ...samplePlan(), hash: 'abc' })).toEqual(['hash: must be a sha256 hex digest']);
  });

  it('refuses duplicate step ids', () => {
    const p = problems(
      variant((_, steps) => {
        (steps[2] as Mutable<Step>).id = 'create-slot';
      }),
    );
    expect(p).toContain('steps[2] (create-slot): id is already used by steps[1]');
  });

  it('refuses a step whose target is not in the plan', () => {
    expect(
      problems(
        variant((_, steps) => {
          (steps[0] as Mutable<Step>).target = 'srv200';
        }),
      ),
    ).toEqual([
      'steps[0] (check-data-dir).target: "srv200" is not one of the targets (srv159, srv127, srv129)',
    ]);
  });

  it('refuses a target whose name is not its key', () => {
    expect(
      problems(
        variant((plan) => {
          plan.targets = { ...plan.targets, srv129: { ...plan.targets.srv129!, name: 'srv130' } };
        }),
      ),
    ).toEqual(['targets.srv129.name: is "srv130", must equal its key']);
  });

  it('requires undo exactly for mutating steps', () => {
    expect(
      problems(
        variant((_, steps) => {
          (steps[2] as Mutable<Step>).undo = null;
        }),
      ),
    ).toEqual(['steps[2] (make-data-dir).undo: a mutating step needs undo actions']);
    expect(
      problems(
        variant((_, steps) => {
          (steps[0] as Mutable<Step>).undo = [];
        }),
      ),
    ).toEqual(['steps[0] (check-data-dir).undo: must be null for a read-only step']);
  });

  it('requires an effect probe on mutating steps', () => {
    expect(
      problems(
        variant((_, steps) => {
          delete (steps[2] as Mutable<Step>).effect;
        }),
      ),
    ).toEqual([
      'steps[2] (make-data-dir).effect: a mutating step needs an effect probe (to resume after a crash), or to be idempotent',
    ]);
  });

  it('lets an idempotent mutating step go without an effect probe, but never with one', () => {
    const idempotent = variant((_, steps) => {
      delete (steps[2] as Mutable<Step>).effect;
      (steps[2] as Mutable<Step>).idempotent = true;
    });
    expect(parsePlan(idempotent)).toMatchObject({ ok: true });
    expect(
      problems(
        variant((_, steps) => {
          (steps[2] as Mutable<Step>).idempotent = true;
        }),
      ),
    ).toEqual([
      'steps[2] (make-data-dir).idempotent: an idempotent step is run again after a crash, never probed',
    ]);
  });

  it('requires file-restore to name this or an earlier file-edit step, for the same file and target', () => {
    const hba = stepIndex('hba-srv127');
    const restore = (editStepId: string, path = '/home/kingbase/cluster/ESHA/db/data/sys_hba.conf') =>
      variant((_, steps) => {
        (steps[hba] as Mutable<Step>).undo = [{ kind: 'file-restore', path, editStepId }];
      });
    expect(problems(restore('nope'))).toEqual([
      `steps[${hba}] (hba-srv127).undo[0].editStepId: "nope" is not an earlier file-edit step`,
    ]);
    expect(problems(restore('create-slot'))).toEqual([
      `steps[${hba}] (hba-srv127).undo[0].editStepId: "create-slot" is not an earlier file-edit step`,
    ]);
    expect(problems(restore('ha-all-ip-srv127'))).toEqual([
      `steps[${hba}] (hba-srv127).undo[0].editStepId: "ha-all-ip-srv127" is not an earlier file-edit step`,
    ]);
    expect(problems(restore('hba-srv127', '/etc/other.conf'))).toEqual([
      `steps[${hba}] (hba-srv127).undo[0].path: restores /etc/other.conf but step hba-srv127 edits /home/kingbase/cluster/ESHA/db/data/sys_hba.conf`,
    ]);
    // tune-kingbase-conf is an earlier file edit, but of another file on another target.
    expect(
      problems(restore('tune-kingbase-conf', '/home/kingbase/cluster/ESHA/db/data/kingbase.conf')),
    ).toEqual([
      `steps[${hba}] (hba-srv127).undo[0]: restores on srv127 but step tune-kingbase-conf edits on srv159`,
    ]);
  });

  it('requires positive timeouts and wait intervals', () => {
    const wait = stepIndex('wait-streaming');
    expect(
      problems(
        variant((_, steps) => {
          (steps[0] as Mutable<Step>).timeoutMs = 0;
        }),
      ),
    ).toEqual(['steps[0].timeoutMs: must be more than 0 ms']);
    expect(
      problems(
        variant((_, steps) => {
          const s = steps[wait] as Mutable<Step>;
          s.action = { ...(s.action as Extract<Step['action'], { kind: 'wait-until' }>), intervalMs: -5 };
        }),
      ),
    ).toEqual([`steps[${wait}].action.intervalMs: must be more than 0 ms`]);
  });

  it('checks conditions: bad patterns and impossible row counts, also nested', () => {
    const wait = stepIndex('wait-streaming');
    const p = problems(
      variant((_, steps) => {
        const s = steps[wait] as Mutable<Step>;
        s.action = {
          kind: 'wait-until',
          probe: { kind: 'ssh', argv: ['true'] },
          until: {
            kind: 'all',
            of: [
              { kind: 'row-count', min: 2, max: 1 },
              { kind: 'not', of: { kind: 'stdout-matches', pattern: '[' } },
            ],
          },
          intervalMs: 1000,
        };
      }),
    );
    expect(p).toEqual([
      `steps[${wait}] (wait-streaming).action.until.of[0]: min 2 is more than max 1`,
      `steps[${wait}] (wait-streaming).action.until.of[1].of.pattern: /[/ is not a valid regular expression`,
    ]);
  });

  it('validates every condition, action and edit kind (the sample uses most of them)', () => {
    const ok = variant((_, steps) => {
      (steps[0] as Mutable<Step>).action = {
        kind: 'verify',
        probe: { kind: 'sql', sql: 'select 1 as n', params: [1, 'a', null, true, { a: [1] }] },
        expect: {
          kind: 'any',
          of: [
            { kind: 'column-equals', column: 'n', value: { a: [1, null] } },
            { kind: 'column-at-least', column: 'n', value: 1.5 },
            { kind: 'row-count' },
          ],
        },
      };
    });
    expect(parsePlan(ok).ok).toBe(true);
  });

  it('refuses a step asking for zero approvals', () => {
    expect(
      problems(
        variant((_, steps) => {
          (steps[0] as Mutable<Step>).approvals = 0;
        }),
      ),
    ).toEqual([expect.stringMatching(/^steps\[0\]\.approvals: /)]);
  });
});

describe('planProblems', () => {
  it('checks an unsealed plan (for runbook tests)', () => {
    expect(planProblems(samplePlanUnsealed())).toEqual([]);
  });
});
