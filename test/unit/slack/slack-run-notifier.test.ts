import { systemClock } from '../../../src/adapters/system-clock';
import type { Json } from '../../../src/core/json';
import type { JournalEvent, Run, StepOutcome, StoredEvent } from '../../../src/core/run';
import type { RunState } from '../../../src/core/run-state';
import { SlackOutbox, type OutboxFailure, type SlackApi } from '../../../src/slack/slack-outbox';
import {
  SlackRunNotifier,
  slackThreadOf,
  verdictChecksOf,
  type SlackRunRenderers,
  type StepFinishedEvent,
} from '../../../src/slack/slack-run-notifier';

// The notifier over the real outbox (small interval) and a recording SlackApi; stub renderers
// that write what they were given, so the calls show which builder made each message.

interface Call {
  readonly method: 'post' | 'update';
  readonly channel: string;
  readonly text: string;
  readonly ts?: string;
  readonly threadTs?: string;
}

function recordingApi(latencyMs = 0) {
  const calls: Call[] = [];
  let n = 0;
  const api: SlackApi = {
    async postMessage(a) {
      calls.push({ method: 'post', channel: a.channel, text: a.text, threadTs: a.threadTs });
      if (latencyMs) await systemClock.sleep(latencyMs);
      return { ts: `1700000100.${String(++n).padStart(6, '0')}` };
    },
    async update(a) {
      calls.push({ method: 'update', channel: a.channel, text: a.text, ts: a.ts });
      if (latencyMs) await systemClock.sleep(latencyMs);
    },
    async uploadFile() {},
  };
  return { api, calls };
}

const renderers: SlackRunRenderers = {
  renderRoot: (run) => ({ text: `root ${run.state}` }),
  renderStepStarted: (_run, e) => ({ text: `started ${e.index} ${e.phase}` }),
  renderStepFinished: (_run, e) => ({ text: `finished ${e.index} ${e.phase}` }),
  renderProgress: (_run, e) => ({ text: `progress ${e.index} ${e.percent ?? '-'}%` }),
  renderVerdict: (_run, checks) => ({
    text: `verdict ${checks.map((c) => `${c.name}:${c.ok ? 'pass' : 'FAIL'}`).join(',')}`,
  }),
  renderFailure: (_run, e) => ({ text: `failure ${e.index} ${e.outcome.ok ? '' : e.outcome.failure.code}` }),
};

const ROOT = { channel: 'C1', ts: '1700000000.000100' };

const run = (state: RunState = 'running', meta: Record<string, Json> = { slack: ROOT }): Run =>
  ({ id: 'run-1', cluster: 'ESHA', state, meta }) as unknown as Run;

let nextId = 1;
const stored = (event: JournalEvent): StoredEvent => ({
  id: nextId++,
  at: new Date().toISOString(),
  runId: 'run-1',
  cluster: 'ESHA',
  actor: 'worker',
  event,
});

const state = (from: RunState, to: RunState): JournalEvent => ({
  type: 'state',
  from,
  to,
  event: to === 'succeeded' ? 'succeed' : to === 'failed' ? 'fail' : 'start',
});
const started = (index: number, phase: 'do' | 'undo' = 'do'): JournalEvent => ({
  type: 'step-started',
  index,
  stepId: `s${index}`,
  phase,
});
const progress = (index: number, percent: number): JournalEvent => ({
  type: 'step-progress',
  index,
  stepId: `s${index}`,
  percent,
});
const finished = (index: number, outcome: StepOutcome = { ok: true }): StepFinishedEvent => ({
  type: 'step-finished',
  index,
  stepId: `s${index}`,
  phase: 'do',
  durationMs: 12,
  outcome,
});

function setup(
  options: { minIntervalMs?: number; latencyMs?: number; render?: Partial<SlackRunRenderers> } = {},
) {
  const { api, calls } = recordingApi(options.latencyMs);
  const outboxErrors: OutboxFailure[] = [];
  const outbox = new SlackOutbox(api, systemClock, {
    minIntervalMs: options.minIntervalMs ?? 1,
    onError: (f) => outboxErrors.push(f),
  });
  const notifyErrors: unknown[] = [];
  const notifier = new SlackRunNotifier(
    outbox,
    { ...renderers, ...options.render },
    {
      onError: (e) => notifyErrors.push(e),
    },
  );
  return { notifier, calls, outboxErrors, notifyErrors };
}

const view = (calls: Call[]) =>
  calls.map((c) =>
    c.method === 'post' ? `post[${c.threadTs ?? '-'}] ${c.text}` : `update[${c.ts}] ${c.text}`,
  );

describe('SlackRunNotifier', () => {
  it('reads the root message from run.meta.slack and ignores runs without one', async () => {
    expect(slackThreadOf(run())).toEqual(ROOT);
    expect(slackThreadOf(run('running', {}))).toBeNull();
    expect(slackThreadOf(run('running', { slack: { channel: 'C1' } }))).toBeNull();
    expect(slackThreadOf(run('running', { slack: 'C1' }))).toBeNull();

    const { notifier, calls } = setup();
    notifier.notify(stored(state('approved', 'running')), run('running', {}));
    notifier.notify(stored(started(0)), run('running', { slack: null }));
    await notifier.flush();
    expect(calls).toEqual([]);
  });

  it('a run: root updates, one reply per step start and end, in order, in the thread', async () => {
    const { notifier, calls, outboxErrors } = setup();
    notifier.notify(stored(state('approved', 'running')), run('running'));
    for (const i of [0, 1, 2]) {
      notifier.notify(stored(started(i)), run('running'));
      notifier.notify(stored(finished(i)), run('running'));
    }
    notifier.notify(stored(state('running', 'succeeded')), run('succeeded'));
    await notifier.flush();
    const replies = calls.filter((c) => c.method === 'post');
    expect(replies.map((c) => c.text)).toEqual([
      'started 0 do',
      'finished 0 do',
      'started 1 do',
      'finished 1 do',
      'started 2 do',
      'finished 2 do',
    ]);
    expect(replies.every((c) => c.channel === 'C1' && c.threadTs === ROOT.ts)).toBe(true);
    const updates = calls.filter((c) => c.method === 'update');
    expect(updates.every((c) => c.channel === 'C1' && c.ts === ROOT.ts)).toBe(true);
    // both state changes were queued before the first call: only the last one is sent
    expect(updates.map((c) => c.text)).toEqual(['root succeeded']);
    expect(outboxErrors).toEqual([]);
  });

  it('coalesces root updates while the channel is busy, and the final state lands', async () => {
    const { notifier, calls } = setup({ minIntervalMs: 20 });
    const states: RunState[] = ['running', 'awaiting_approval', 'approved', 'running', 'failed'];
    for (const [i, s] of states.entries()) {
      notifier.notify(stored(state(states[i - 1] ?? 'approved', s)), run(s));
      await systemClock.sleep(5);
    }
    await notifier.flush();
    const updates = calls.filter((c) => c.method === 'update').map((c) => c.text);
    expect(updates.length).toBeLessThan(states.length);
    expect(updates.at(-1)).toBe('root failed');
  });

  it('progress: one reply per step, created on the first event, then edited in place (coalesced)', async () => {
    const { notifier, calls } = setup({ minIntervalMs: 15 });
    notifier.notify(stored(started(3)), run());
    for (let p = 1; p <= 100; p++) {
      notifier.notify(stored(progress(3, p)), run());
      if (p % 20 === 0) await systemClock.sleep(5);
    }
    notifier.notify(stored(finished(3)), run());
    await notifier.flush();
    const posts = calls.filter((c) => c.method === 'post');
    expect(posts.map((c) => c.text)).toEqual(['started 3 do', 'progress 3 1%', 'finished 3 do']);
    const bar = posts[1]!;
    const updates = calls.filter((c) => c.method === 'update');
    expect(updates.length).toBeGreaterThanOrEqual(1);
    expect(updates.length).toBeLessThanOrEqual(5); // one per burst at most
    expect(updates.every((u) => u.ts !== ROOT.ts)).toBe(true);
    expect(updates.at(-1)!.text).toBe('progress 3 100%');
    const barTs = '1700000100.000002'; // the second post of the recording api
    expect(bar.threadTs).toBe(ROOT.ts);
    expect(updates.every((u) => u.ts === barTs)).toBe(true);
  });

  it('a step run again (retry) gets a new progress reply', async () => {
    const { notifier, calls } = setup();
    notifier.notify(stored(started(1)), run());
    notifier.notify(stored(progress(1, 50)), run());
    notifier.notify(stored(finished(1, failed('timeout'))), run());
    notifier.notify(stored(started(1)), run());
    notifier.notify(stored(progress(1, 10)), run());
    await notifier.flush();
    expect(view(calls.filter((c) => c.method === 'post'))).toEqual([
      `post[${ROOT.ts}] started 1 do`,
      `post[${ROOT.ts}] progress 1 50%`,
      `post[${ROOT.ts}] failure 1 timeout`,
      `post[${ROOT.ts}] started 1 do`,
      `post[${ROOT.ts}] progress 1 10%`,
    ]);
  });

  it('a failed step gets the failure card (in place of the finished reply); undo steps are replies too', async () => {
    const { notifier, calls } = setup();
    notifier.notify(stored(started(2)), run());
    notifier.notify(stored(finished(2, failed('conflict'))), run());
    notifier.notify(stored(started(2, 'undo')), run('rolling_back'));
    notifier.notify(stored({ ...finished(2), phase: 'undo' }), run('rolling_back'));
    await notifier.flush();
    expect(calls.filter((c) => c.method === 'post').map((c) => c.text)).toEqual([
      'started 2 do',
      'failure 2 conflict',
      'started 2 undo',
      'finished 2 undo',
    ]);
  });

  it('a verdict posts the verdict card; a failed verdict adds the failure card', async () => {
    const checks = [
      { name: 'pool sees node', ok: true, waitedMs: 120, detail: 'as expected' },
      { name: 'rows replicated', ok: false, waitedMs: 5000, detail: 'srv159 has 3 rows' },
    ];
    const passed = finished(7, { ok: true, detail: { checks: [checks[0]!] } });
    const failedVerdict = finished(7, {
      ok: false,
      kind: 'failure',
      failure: { code: 'verification-failed', message: '1 of 2 checks failed' },
      detail: { checks },
    });
    expect(verdictChecksOf(failedVerdict)).toEqual(checks);
    expect(verdictChecksOf(finished(7))).toBeNull();

    const { notifier, calls } = setup();
    notifier.notify(stored(passed), run());
    notifier.notify(stored(failedVerdict), run());
    await notifier.flush();
    expect(calls.map((c) => c.text)).toEqual([
      'verdict pool sees node:pass',
      'verdict pool sees node:pass,rows replicated:FAIL',
      'failure 7 verification-failed',
    ]);
  });

  it('notify returns at once: nothing is sent during the call, even with a slow Slack', async () => {
    const { notifier, calls } = setup({ minIntervalMs: 50, latencyMs: 50 });
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) notifier.notify(stored(started(i)), run());
    expect(Date.now() - t0).toBeLessThan(50);
    expect(calls).toEqual([]);
    await systemClock.sleep(10);
    expect(calls).toHaveLength(1); // the rest wait their turn in the outbox
  });

  it('never throws: a broken renderer or a broken run goes to onError and later events still flow', async () => {
    const { notifier, calls, outboxErrors, notifyErrors } = setup({
      render: {
        renderStepStarted: () => {
          throw new Error('render bug');
        },
      },
    });
    expect(() => {
      notifier.notify(stored(started(0)), run());
      notifier.notify(stored(state('approved', 'running')), null as unknown as Run);
      notifier.notify(stored(finished(0)), run());
    }).not.toThrow();
    await notifier.flush();
    expect(calls.map((c) => c.text)).toEqual(['finished 0 do']);
    expect(outboxErrors.map((e) => (e.error as Error).message)).toEqual(['render bug']);
    expect(notifyErrors).toHaveLength(1);
  });

  it('ignores events that do not change the thread', async () => {
    const { notifier, calls } = setup();
    notifier.notify(stored({ type: 'created' }), run());
    notifier.notify(stored({ type: 'probe', index: 0, stepId: 's0', present: true }), run());
    notifier.notify(stored({ type: 'lock', action: 'taken' }), run());
    notifier.notify(stored({ type: 'audit', action: 'note' }), run());
    await notifier.flush();
    expect(calls).toEqual([]);
  });
});

function failed(code: string): StepOutcome {
  return { ok: false, kind: 'failure', failure: { code, message: `${code} happened` } };
}
