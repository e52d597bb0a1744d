import { sealPlan, type SealedPlan, type Step } from '../../../src/core/plan';
import type { Run } from '../../../src/core/run';
import { RUN_STATES } from '../../../src/core/run-state';
import type { CheckResult } from '../../../src/core/run';
import type { PoolNode } from '../../../src/probes/pool-nodes';
import type { ClusterHealth, ReplicationHealth } from '../../../src/probes/cluster-health';
import type { Check } from '../../../src/core/check';
import { followUpMessage } from '../../../src/render/follow-up-message';
import { helpMessage } from '../../../src/render/help-message';
import { messageProblems } from '../../../src/render/message-problems';
import { planAsFile, planDetailMessages, planNeedsFile } from '../../../src/render/plan-detail';
import { planRootMessage } from '../../../src/render/plan-message';
import {
  failureCard,
  stepFinishedReply,
  stepStartedReply,
  verdictCard,
} from '../../../src/render/run-progress';
import { runsMessage } from '../../../src/render/runs-message';
import type { SlackMessage } from '../../../src/render/slack-message';
import { statusMessage } from '../../../src/render/status-message';
import { usageError } from '../../../src/render/usage-error';
import { NOW, runOf } from './render-fixture';

// Every builder fed inputs far beyond anything real (huge texts, thousands of rows, hostile
// characters) still produces messages Slack accepts: every limit held, no unescaped `<`.

const huge = (n: number, seed = 'x'): string => {
  const unit = `${seed} <!channel> & <b> \`\`\` 😀 `;
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
};
/** Free text (outputs, errors, hints) with a password in it, which must never be shown. */
const leaky = (n: number): string => `connect password=hunter2hunter2 ${huge(n)} PGPASSWORD=hunter2hunter2`;
const lines = (n: number, width: number): string =>
  Array.from({ length: n }, (_, i) => `${i} ${huge(width)}`).join('\n');

function hugePlan(): SealedPlan {
  const steps: Step[] = Array.from({ length: 40 }, (_, i) => ({
    id: `step-${i}-${'i'.repeat(200)}`,
    title: huge(500, `t${i}`),
    target: 't',
    action:
      i % 2 === 0
        ? { kind: 'sql', sql: `select ${huge(8000)}`, params: [huge(3000)] }
        : {
            kind: 'file-edit',
            path: '/etc/x.conf',
            expectedSha256: null,
            edit: { type: 'replace', content: lines(300, 60) },
          },
    timeoutMs: 60_000,
    mutates: true,
    undo: [{ kind: 'ssh', argv: ['sh', '-c', huge(5000)] }],
    effect: { probe: { kind: 'file', path: '/etc/x.conf' }, present: { kind: 'file-sha', sha256: null } },
    approvals: 7,
    note: huge(5000, 'note'),
  }));
  return sealPlan({
    formatVersion: 1,
    runbook: { id: 'add-node', version: 1 },
    cluster: huge(300, 'C'),
    dialect: 'postgresql',
    params: { host: huge(300, 'h'), name: huge(300, 'n'), extra: huge(10_000) },
    requester: huge(300, 'U'),
    createdAt: '2020-10-23T12:00:00.000Z',
    targets: { t: { name: huge(300, 't'), host: huge(300, 'h'), sshPort: 22, sqlPort: 5432 } },
    snapshot: null,
    steps,
  });
}

/** In mrkdwn and the fallback text, `<` starts only the tokens kbops writes: mentions, dates, groups. */
function strayAngles(m: SlackMessage): string[] {
  const texts: string[] = [m.text];
  JSON.stringify(m.blocks, (_key, value: unknown) => {
    const v = value as { type?: unknown; text?: unknown };
    if (v !== null && typeof v === 'object' && v.type === 'mrkdwn' && typeof v.text === 'string')
      texts.push(v.text);
    return value;
  });
  return texts
    .flatMap((t) => t.match(/<[^>]{0,20}/g) ?? [])
    .filter((s) => !/^<(@U|!date\^|!subteam\^)/.test(s));
}

function expectSound(m: SlackMessage): void {
  expect(messageProblems(m)).toEqual([]);
  expect(strayAngles(m)).toEqual([]);
  expect(JSON.stringify(m)).not.toContain('hunter2hunter2');
}

let plan: SealedPlan;
let runs: Run[];
beforeAll(() => {
  plan = hugePlan();
  runs = RUN_STATES.map((state, i) =>
    runOf(plan, state, {
      id: `run_${huge(100)}`,
      requester: huge(200, 'U'),
      nextStep: (i * 9) % plan.steps.length,
      undoNext: state === 'rolling_back' || state === 'rollback_failed' ? 3 : null,
    }),
  );
});

const preflight: Check[] = Array.from({ length: 2000 }, (_, i) => ({
  name: huge(200, `c${i}`),
  status: (['pass', 'warn', 'fail'] as const)[i % 3]!,
  message: leaky(3000),
  hint: leaky(3000),
}));

describe('every builder respects every Slack limit, whatever it is fed', () => {
  it('planRootMessage, in every state', () => {
    for (const run of runs) {
      expectSound(
        planRootMessage({
          run,
          preflight,
          tally: {
            approvers: Array.from({ length: 500 }, (_, i) => `U${i}`),
            count: 500,
            needed: 700,
            satisfied: false,
          },
          policyText: huge(50_000),
          now: NOW,
          progress: { percent: 1e9, message: huge(10_000) },
        }),
      );
    }
  });

  it('followUpMessage, in every state', () => {
    const offers = Array.from({ length: 60 }, (_, i) => ({
      runbook: huge(40, `r${i}`),
      label: huge(300, `l${i}`),
      values: { cluster: huge(300, 'C'), text: huge(i * 40), n: i },
      command: huge(5000),
    }));
    for (const run of runs) {
      const m = followUpMessage({ run: { ...run, id: `R${run.id.slice(0, 8)}` }, state: run.state, offers });
      if (!m) throw new Error('no offer shown');
      expectSound(m);
    }
  });

  it('planDetailMessages, planNeedsFile and planAsFile', () => {
    const messages = planDetailMessages(plan);
    expect(messages.length).toBeGreaterThan(3);
    messages.forEach(expectSound);
    expect(planNeedsFile(plan)).toBe(true);
    const file = planAsFile(plan);
    expectSound(file.message);
    expect(file.filename.length).toBeLessThan(400);
    expect(file.filename).toMatch(/^[A-Za-z0-9_.-]+$/);
  });

  it('step replies, the verdict card and the failure card', () => {
    const failure = { code: huge(500), message: leaky(100_000), hint: leaky(100_000) };
    const checks: CheckResult[] = Array.from({ length: 3000 }, (_, i) => ({
      name: huge(300, `k${i}`),
      ok: i % 2 === 0,
      waitedMs: i,
      detail: leaky(5000),
    }));
    for (const run of runs) {
      for (const phase of ['do', 'undo'] as const) expectSound(stepStartedReply(run, run.nextStep, phase));
      expectSound(
        stepFinishedReply(run, {
          type: 'step-finished',
          index: run.nextStep,
          stepId: 'x',
          phase: 'do',
          durationMs: 1e12,
          outcome: {
            ok: false,
            kind: 'error',
            failure,
            detail: { stderr: `${lines(5000, 300)}\n${leaky(300)}`, stdout: huge(10_000) },
          },
        }),
      );
      expectSound(failureCard(run, failure));
      expectSound(verdictCard(run, checks));
    }
    expectSound(stepStartedReply(runs[0]!, 10_000, 'do')); // a step the plan does not have
  });

  it('status, runs, help and usage error', () => {
    const pool: PoolNode[] = Array.from({ length: 5000 }, (_, i) => ({
      nodeId: i,
      hostname: huge(253, 'h'),
      port: 5432,
      status: i % 2 ? 'down' : huge(100),
      lbWeight: 1 / 3,
      role: huge(50),
      roleStale: false,
    }));
    const replication: ReplicationHealth[] = Array.from({ length: 5000 }, () => ({
      applicationName: huge(200),
      clientAddr: huge(100),
      state: huge(50),
      syncState: null,
      sent: '0/5000140',
      replay: 'FFFFFFFF/FFFFFFFF',
      lagBytes: Number.MAX_SAFE_INTEGER,
      lagSeconds: 1e12,
    }));
    const health: ClusterHealth = {
      cluster: huge(300),
      dialect: 'postgresql',
      readAt: NOW.toISOString(),
      nodes: Array.from({ length: 3000 }, (_, i) => ({
        name: huge(58),
        host: huge(253, 'h'),
        sqlPort: 5432,
        reachable: i % 2 === 0,
        role: i % 3 === 0 ? 'unknown' : 'standby',
        walPosition: null,
        problem: leaky(5000),
      })),
      primary: null,
      replication,
      replicationProblem: leaky(5000),
      slots: Array.from({ length: 3000 }, () => ({
        name: huge(63),
        type: 'physical',
        active: false,
        restartLsn: null,
        retainedBytes: null,
      })),
      slotsProblem: leaky(5000),
      pools: Array.from({ length: 20 }, () => ({
        node: huge(58),
        host: huge(253, 'h'),
        sqlPort: 9999,
        poolNodes: pool,
        problem: leaky(5000),
      })),
    };
    expectSound(statusMessage(health));
    expectSound(
      runsMessage({
        runs: Array.from({ length: 2000 }, (_, i) => runs[i % runs.length]!),
        now: NOW,
        cluster: huge(300),
      }),
    );
    expectSound(
      helpMessage(
        Array.from({ length: 300 }, (_, i) => ({
          name: huge(100, `s${i}`),
          args: huge(2000),
          summary: huge(5000),
        })),
        huge(100, '/k'),
      ),
    );
    expectSound(usageError({ problem: leaky(100_000), usage: 'add-node <cluster> <host>' }));
    expectSound(usageError({ problem: huge(100_000), usage: huge(1000), command: huge(1000) }));
    expectSound(
      usageError({
        problem: leaky(100_000),
        commands: Array.from({ length: 300 }, (_, i) => ({
          name: huge(100, `s${i}`),
          args: '',
          summary: '',
        })),
      }),
    );
  });
});
