import { randomBytes } from 'node:crypto';
import { decideVote, tally, type ApprovalPolicy, type Tally } from '../core/approval-policy';
import type { Json } from '../core/json';
import { approvalsNeededAt, planIntact, type SealedPlan } from '../core/plan';
import { mutatedAnything, type Failure, type Run } from '../core/run';
import type { RunEventType } from '../core/run-state';
import type { Clock } from '../ports/clock';
import type { Connector } from '../ports/connector';
import type { LockInfo, RunPatch, RunStore } from '../ports/run-store';
import { assessInterrupted, type Assessment } from './assess-interrupted';

// What people do to runs, whatever the front end (Slack, console, CLI): submit a plan, vote,
// cancel, resume or roll back after a failure or crash, and (admins) force a lock open. Every
// refusal is a Failure value, and every decision is journaled.

export interface RunPolicy extends ApprovalPolicy {
  readonly autoRollback: boolean;
  readonly admins: { readonly users: readonly string[]; readonly groups: readonly string[] };
}

export interface RunServiceDeps {
  readonly store: RunStore;
  readonly clock: Clock;
  readonly policyFor: (cluster: string) => RunPolicy;
  readonly groupsOf: (userId: string) => readonly string[];
  readonly connectorFor: (run: Run) => Connector;
  readonly newRunId?: () => string;
}

export type Result<T> = ({ ok: true } & T) | { ok: false; failure: Failure };

const fail = (code: string, message: string, hint?: string): { ok: false; failure: Failure } => ({
  ok: false,
  failure: hint === undefined ? { code, message } : { code, message, hint },
});

/** Short, unambiguous run ids people can type: R + 8 base32 characters. */
export const newRunId = (): string =>
  `R${[...randomBytes(8)].map((b) => 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'[b & 31]).join('')}`;

export const describeLock = (lock: LockInfo): string =>
  `cluster ${lock.cluster} is locked by run ${lock.runId}, requested by ${lock.holder} at ${lock.acquiredAt}`;

export class RunService {
  constructor(private readonly deps: RunServiceDeps) {}

  async submit(plan: SealedPlan, meta?: Record<string, Json>): Promise<Result<{ run: Run }>> {
    if (!planIntact(plan)) return fail('plan-invalid', 'the plan does not match its hash');
    const policy = this.deps.policyFor(plan.cluster);
    const expiresAt = Number.isFinite(policy.ttlMs)
      ? new Date(this.deps.clock.now().getTime() + policy.ttlMs).toISOString()
      : null;
    const r = await this.deps.store.createRun({
      id: (this.deps.newRunId ?? newRunId)(),
      plan,
      expiresAt,
      ...(meta && { meta }),
    });
    if (!r.ok) {
      return fail(
        'cluster-locked',
        describeLock(r.lockedBy),
        `wait for run ${r.lockedBy.runId} to end, or ask an admin to unlock`,
      );
    }
    return { ok: true, run: r.run };
  }

  async tally(run: Run): Promise<Tally> {
    const policy = this.deps.policyFor(run.cluster);
    return tally(policy, this.context(run, policy), await this.deps.store.approvals(run.id));
  }

  async vote(
    runId: string,
    userId: string,
    decision: 'approve' | 'reject',
    planHash: string,
  ): Promise<Result<{ run: Run; tally: Tally }>> {
    const run = await this.deps.store.getRun(runId);
    if (!run) return fail('no-such-run', `there is no run ${runId}`);
    if (decision === 'reject' && mutatedAnything(run.plan, run.nextStep, run.undoNext)) {
      // A rejected run ends and frees the cluster: not while it has changed something.
      return fail('already-changed', `run ${runId} has already changed the cluster`, 'roll it back instead');
    }
    const policy = this.deps.policyFor(run.cluster);
    const existing = await this.deps.store.approvals(runId);
    const ctx = {
      ...this.context(run, policy),
      // A run paused at a step that needs more approvals opened its window when it paused.
      createdAt: run.nextStep > 0 ? run.updatedAt : run.createdAt,
      now: this.deps.clock.now(),
      state: run.state,
    };
    const decided = decideVote(policy, ctx, existing, { userId, decision, planHash });
    if (!decided.ok) {
      await this.audit(run, userId, 'vote-refused', { decision, code: decided.failure.code });
      return decided;
    }
    if ((await this.deps.store.recordApproval({ runId, ...decided.record })) === 'duplicate') {
      return fail('already-approved', 'your vote for this plan is already recorded');
    }
    await this.deps.store.append({
      runId,
      cluster: run.cluster,
      actor: userId,
      event: { type: 'approval', decision, planHash },
    });
    let next = run;
    const t = decided.tally;
    if (t.rejectedBy !== undefined) next = await this.move(run, 'reject', userId, `rejected by ${userId}`);
    else if (t.satisfied && run.state === 'awaiting_approval') {
      next = await this.move(run, 'approve', userId, `${t.count} of ${t.needed} approvals`, {
        meta: { approvedBy: t.approvers },
      });
    }
    return { ok: true, run: next, tally: t };
  }

  async cancel(runId: string, actor: string): Promise<Result<{ run: Run }>> {
    const run = await this.deps.store.getRun(runId);
    if (!run) return fail('no-such-run', `there is no run ${runId}`);
    if (run.state === 'running' || run.state === 'rolling_back') {
      await this.deps.store.requestCancel(runId, actor);
      return { ok: true, run: (await this.deps.store.getRun(runId)) ?? run };
    }
    const r = await this.deps.store.applyEvent(runId, 'cancel', { actor, reason: `cancelled by ${actor}` });
    return r.ok ? { ok: true, run: r.run } : fail('illegal', r.reason);
  }

  /** For an interrupted run: what the probes say, before anyone decides. */
  async assess(runId: string): Promise<Result<{ run: Run; assessment: Assessment }>> {
    const run = await this.deps.store.getRun(runId);
    if (!run) return fail('no-such-run', `there is no run ${runId}`);
    if (run.state !== 'interrupted')
      return fail('not-interrupted', `run ${runId} is ${run.state}, not interrupted`);
    const connector = this.deps.connectorFor(run);
    try {
      const assessment = await assessInterrupted(run, connector, this.deps.clock);
      for (const r of assessment.readings) {
        await this.deps.store.append({
          runId,
          cluster: run.cluster,
          actor: 'kbops',
          event: { type: 'probe', index: r.index, stepId: r.stepId, present: r.present },
        });
      }
      return { ok: true, run, assessment };
    } finally {
      await connector.close();
    }
  }

  async resume(runId: string, actor: string): Promise<Result<{ run: Run; assessment: Assessment }>> {
    const a = await this.assess(runId);
    if (!a.ok) return a;
    if (a.assessment.resumeAt === null) return fail('cannot-resume', a.assessment.why, 'roll back instead');
    const r = await this.deps.store.applyEvent(runId, 'resume', {
      actor,
      reason: a.assessment.why,
      expect: ['interrupted'],
      patch: { nextStep: a.assessment.resumeAt, undoNext: null },
    });
    return r.ok ? { ok: true, run: r.run, assessment: a.assessment } : fail('illegal', r.reason);
  }

  /** `claim`: the caller executes the rollback itself, at once (CLI); otherwise a worker claims it. */
  async rollback(
    runId: string,
    actor: string,
    claim?: { owner: string; leaseMs: number },
  ): Promise<Result<{ run: Run }>> {
    const run = await this.deps.store.getRun(runId);
    if (!run) return fail('no-such-run', `there is no run ${runId}`);
    // A step in flight at a crash may have changed something part-way: undo it too (undos are idempotent).
    const inFlight = run.plan.steps[run.nextStep];
    const undoNext =
      run.undoNext ?? (run.state === 'interrupted' && inFlight?.mutates ? run.nextStep : run.nextStep - 1);
    const r = await this.deps.store.applyEvent(runId, 'rollback', {
      actor,
      reason: `rollback requested by ${actor}`,
      patch: { undoNext },
      ...(claim && { claim }),
    });
    return r.ok ? { ok: true, run: r.run } : fail('illegal', r.reason);
  }

  async retry(runId: string, actor: string): Promise<Result<{ run: Run }>> {
    const r = await this.deps.store.applyEvent(runId, 'retry', {
      actor,
      reason: `retry requested by ${actor}`,
      expect: ['failed'],
      patch: { undoNext: null },
    });
    return r.ok ? { ok: true, run: r.run } : fail('illegal', r.reason);
  }

  async forceUnlock(cluster: string, actor: string, reason: string): Promise<Result<{ released: LockInfo }>> {
    const admins = this.deps.policyFor(cluster).admins;
    const isAdmin =
      admins.users.includes(actor) || this.deps.groupsOf(actor).some((g) => admins.groups.includes(g));
    if (!isAdmin) {
      await this.deps.store.append({
        runId: null,
        cluster,
        actor,
        event: { type: 'audit', action: 'unlock-refused' },
      });
      return fail('not-admin', `only an admin of ${cluster} can force its lock open`);
    }
    const released = await this.deps.store.forceReleaseLock(cluster, actor, reason);
    return released ? { ok: true, released } : fail('not-locked', `cluster ${cluster} is not locked`);
  }

  private context(run: Run, policy: RunPolicy) {
    return {
      requester: run.requester,
      planHash: run.plan.hash,
      needed: approvalsNeededAt(run.plan, policy.required, run.nextStep),
      groupsOf: this.deps.groupsOf,
    };
  }

  private async move(
    run: Run,
    event: RunEventType,
    actor: string,
    reason: string,
    patch?: RunPatch,
  ): Promise<Run> {
    const r = await this.deps.store.applyEvent(run.id, event, { actor, reason, ...(patch && { patch }) });
    return r.ok ? r.run : run;
  }

  private async audit(run: Run, actor: string, action: string, data: Record<string, string>): Promise<void> {
    await this.deps.store.append({
      runId: run.id,
      cluster: run.cluster,
      actor,
      event: { type: 'audit', action, data },
    });
  }
}
