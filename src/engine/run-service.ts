import { randomBytes } from 'node:crypto';
import { decideVote, demandedPolicy, tally, type ApprovalPolicy, type Tally } from '../core/approval-policy';
import type { Json } from '../core/json';
import { approvalsNeededAt, planIntact, type SealedPlan } from '../core/plan';
import { parsePlan } from '../core/plan-schema';
import { mutatedAnything, type Failure, type Run } from '../core/run';
import type { Clock } from '../ports/clock';
import type { Connector } from '../ports/connector';
import type { ApprovalRecord, LockInfo, RunStore, VoteVerdict } from '../ports/run-store';
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
    // Checked here, once, before the plan is stored: its shape, the rules across its fields, its hash.
    const checked = parsePlan(plan);
    if (!checked.ok)
      return fail(
        'plan-invalid',
        `the plan is not well-formed: ${checked.problems.slice(0, 3).join('; ')}`,
        'this is a fault in the runbook that made it: nothing was changed',
      );
    const policy = this.policyOf(plan);
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

  /** The cluster's policy, raised to what the plan's runbook demands. */
  policyOf(plan: SealedPlan): RunPolicy {
    return demandedPolicy(this.deps.policyFor(plan.cluster), plan.approvals);
  }

  async tally(run: Run): Promise<Tally> {
    const policy = this.policyOf(run.plan);
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
    const policy = this.policyOf(run.plan);
    let counted: Tally | undefined;
    let refused = false;
    // Decided on the run row as locked by the store, with every vote committed before this one.
    const r = await this.deps.store.castVote(runId, (current, existing) => {
      const verdict = this.decide(current, policy, existing, { userId, decision, planHash });
      if (!verdict.ok) refused = true;
      else counted = verdict.tally;
      return verdict;
    });
    if (!r.ok) {
      if (refused) await this.audit(run, userId, 'vote-refused', { decision, code: r.failure.code });
      return r;
    }
    if (!counted) throw new Error('castVote stored a vote without deciding it');
    return { ok: true, run: r.run, tally: counted };
  }

  /** Whether a vote counts and what it moves: pure, run inside the store's transaction. */
  private decide(
    run: Run,
    policy: RunPolicy,
    existing: readonly ApprovalRecord[],
    vote: { userId: string; decision: 'approve' | 'reject'; planHash: string },
  ): (VoteVerdict & { ok: false }) | (VoteVerdict & { ok: true; tally: Tally }) {
    if (vote.decision === 'approve' && !planIntact(run.plan)) {
      // The stored plan is not the one that was sealed (and shown): nothing may run from it.
      return fail(
        'plan-tampered',
        `the stored plan of run ${run.id} no longer matches its hash: it was changed after it was made`,
        'nothing will run from it: reject it, and plan the change again',
      );
    }
    if (vote.decision === 'reject' && mutatedAnything(run.plan, run.nextStep, run.undoNext)) {
      // A rejected run ends and frees the cluster: not while it has changed something.
      return fail('already-changed', `run ${run.id} has already changed the cluster`, 'roll it back instead');
    }
    const ctx = {
      ...this.context(run, policy),
      // A run paused at a step that needs more approvals opened its window when it paused.
      createdAt: run.nextStep > 0 ? run.updatedAt : run.createdAt,
      now: this.deps.clock.now(),
      state: run.state,
    };
    const decided = decideVote(policy, ctx, existing, vote);
    if (!decided.ok) return decided;
    const t = decided.tally;
    const move =
      t.rejectedBy !== undefined
        ? { event: 'reject' as const, reason: `rejected by ${vote.userId}` }
        : t.satisfied && run.state === 'awaiting_approval'
          ? {
              event: 'approve' as const,
              reason: `${t.count} of ${t.needed} approvals`,
              patch: { meta: { approvedBy: t.approvers } },
            }
          : undefined;
    return { ok: true, record: decided.record, tally: t, ...(move && { move }) };
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
    const r = await this.deps.store.forceReleaseLock(cluster, actor, reason);
    if (r.ok) return { ok: true, released: r.released };
    if (r.reason === 'not-locked') return fail('not-locked', `cluster ${cluster} is not locked`);
    await this.deps.store.append({
      runId: r.run.id,
      cluster,
      actor,
      event: {
        type: 'audit',
        action: 'unlock-refused',
        data: { reason: 'run-executing', owner: r.run.owner },
      },
    });
    return fail(
      'run-executing',
      `cluster ${cluster} is held by run ${r.run.id}, which is ${r.run.state.replaceAll('_', ' ')} on ${r.run.owner} (lease until ${r.run.leaseUntil}): forcing its lock open would let another run change the cluster under it`,
      `cancel it first (/kingbase cancel ${r.run.id}) and unlock once it has stopped, or wait for its lease to expire`,
    );
  }

  /**
   * Cancel the run holding the cluster's lock, wait (at most `waitMs`) until it has stopped
   * executing, then force the lock open: the explicit form of unlock for a run that is executing.
   */
  async cancelAndUnlock(
    cluster: string,
    actor: string,
    reason: string,
    o: { waitMs: number; pollMs?: number },
  ): Promise<Result<{ released: LockInfo }>> {
    const first = await this.forceUnlock(cluster, actor, reason);
    if (first.ok || first.failure.code !== 'run-executing') return first;
    const lock = await this.deps.store.getLock(cluster);
    if (!lock) return this.forceUnlock(cluster, actor, reason);
    const cancelled = await this.cancel(lock.runId, actor);
    if (!cancelled.ok) return cancelled;
    const deadline = this.deps.clock.now().getTime() + o.waitMs;
    for (;;) {
      const run = await this.deps.store.getRun(lock.runId);
      if (!run || (run.state !== 'running' && run.state !== 'rolling_back')) {
        const after = await this.forceUnlock(cluster, actor, reason);
        // A run cancelled before it changed anything lets go of the lock itself.
        return !after.ok && after.failure.code === 'not-locked' ? { ok: true, released: lock } : after;
      }
      if (this.deps.clock.now().getTime() >= deadline) {
        return fail(
          'still-executing',
          `run ${lock.runId} was asked to cancel but is still ${run.state.replaceAll('_', ' ')} after ${Math.round(o.waitMs / 1000)} s: the lock stays`,
          `its worker stops at the current step; try again in a moment, or wait for its lease to expire`,
        );
      }
      await this.deps.clock.sleep(o.pollMs ?? 500);
    }
  }

  private context(run: Run, policy: RunPolicy) {
    return {
      requester: run.requester,
      planHash: run.plan.hash,
      needed: approvalsNeededAt(run.plan, policy.required, run.nextStep),
      groupsOf: this.deps.groupsOf,
    };
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
