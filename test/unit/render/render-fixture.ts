import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SealedPlan } from '../../../src/core/plan';
import type { Run } from '../../../src/core/run';
import type { RunState } from '../../../src/core/run-state';
import { kingbaseV8r3Dialect as kb } from '../../../src/dialects/kingbase-v8r3';
import type { Check } from '../../../src/core/check';
import { preflightAddNode } from '../../../src/runbooks/add-node/add-node-preflight';
import { planAddNode } from '../../../src/runbooks/add-node/plan-add-node';
import { messageProblems } from '../../../src/render/message-problems';
import type { SlackMessage } from '../../../src/render/slack-message';
import { writeupCluster, writeupParams, writeupSnapshot } from '../runbooks/writeup-snapshot';

// The write-up's expansion (srv159 joins ESHA on KingbaseES V8R3), planned by the real planner, and
// runs of it in each state, for the Slack renderers' goldens. UPDATE_GOLDEN=1 rewrites the goldens in
// test/golden/slack/; review the diff before committing.

export const PLANNED_AT = new Date('2020-10-23T12:00:00.000Z');
export const NOW = new Date('2020-10-23T12:17:30.000Z');

export interface WriteupFixture {
  readonly plan: SealedPlan;
  /** As the write-up found the cluster, but with firewalld running on the new host (one warning). */
  readonly preflight: Check[];
}

export async function writeupFixture(): Promise<WriteupFixture> {
  const cluster = await writeupCluster();
  const params = writeupParams(cluster);
  const snapshot = writeupSnapshot();
  const plan = planAddNode({ params, dialect: kb, snapshot, requester: 'U_REQ', now: PLANNED_AT });
  const preflight = preflightAddNode(
    { ...snapshot, newHost: { ...snapshot.newHost, firewall: 'active' } },
    params,
    kb,
  );
  return { plan, preflight };
}

/** The index of step `id` in the plan. */
export function stepIndex(plan: SealedPlan, id: string): number {
  const i = plan.steps.findIndex((s) => s.id === id);
  if (i < 0) throw new Error(`no step ${id}`);
  return i;
}

/** addNodeRunbook.subject of the write-up's request. */
export const WRITEUP_SUBJECT = 'add srv159 (192.168.4.159) to ESHA';

/** A run of `plan` in `state`, as the store would hold it. */
export function runOf(plan: SealedPlan, state: RunState, over: Partial<Run> = {}): Run {
  return {
    id: 'run_7f3a9c2e',
    cluster: plan.cluster,
    plan,
    state,
    requester: 'U_REQ',
    createdAt: '2020-10-23T12:00:05.000Z',
    updatedAt: '2020-10-23T12:15:00.000Z',
    expiresAt: '2020-10-23T16:00:05.000Z',
    nextStep: 0,
    undoNext: null,
    owner: state === 'running' || state === 'rolling_back' ? 'kbops-1' : null,
    leaseUntil: null,
    cancelRequested: false,
    // As the chat command records it at submit: the runbook's own words for the run.
    meta: { slack: { channel: 'C_OPS', ts: '1603454405.000100' }, subject: WRITEUP_SUBJECT },
    ...over,
  };
}

const GOLDEN_DIR = join(__dirname, '..', '..', 'golden', 'slack');

/** Compares `value`, pretty-printed, with test/golden/slack/<name>.json (UPDATE_GOLDEN=1 rewrites it). */
export function expectGolden(name: string, value: unknown): void {
  const file = join(GOLDEN_DIR, `${name}.json`);
  const text = `${JSON.stringify(value, null, 2)}\n`;
  if (process.env.UPDATE_GOLDEN === '1') {
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, text);
  }
  expect(existsSync(file)).toBe(true);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

/** Asserts that a message breaks no Slack limit. */
export function expectWithinLimits(message: SlackMessage): void {
  expect(messageProblems(message)).toEqual([]);
}

/** Every text a message shows, joined (to search it without caring about the block layout). */
export const shownText = (message: SlackMessage): string => JSON.stringify(message);
