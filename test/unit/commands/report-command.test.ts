import { reportCommand } from '../../../commands/report/report-command';
import type { CommandContext } from '../../../src/chatops/chatops';
import type { Reporter } from '../../../src/chatops/reporter';
import type { ClusterConfig } from '../../../src/config/normalise-inventory';
import { assessCluster } from '../../../src/health/assess-cluster';
import type { HealthReport } from '../../../src/health/report-model';
import { chatopsHarness, closeSharedStore, labCluster, type Harness } from '../chatops/chatops-harness';
import { reading, THRESHOLDS } from '../health/report-fixtures';

// `/kingbase report`: reads only the clusters the asker may read, acknowledges at once (reading
// takes seconds), and posts the report in the channel through the reporter; says what went wrong
// when it cannot post there.

let h: Harness;
beforeEach(async () => {
  h = await chatopsHarness([await labCluster(), await labCluster({ name: 'other' })]);
});
afterAll(closeSharedStore);

function fakeReporter(postFails = false) {
  const asked: string[][] = [];
  const posted: { channel: string; report: HealthReport }[] = [];
  const reporter: Reporter = {
    report: (clusters: readonly ClusterConfig[]) => {
      asked.push(clusters.map((c) => c.name));
      const cs = clusters.map((c) =>
        assessCluster({ reading: reading({}, c.name), thresholds: THRESHOLDS, lastRuns: [] }),
      );
      return Promise.resolve({
        schedule: null,
        slotAt: null,
        timezone: 'UTC',
        generatedAt: '2026-12-02T00:00:00.000Z',
        lateByMinutes: null,
        skipped: [],
        level: 'green',
        clusters: cs,
      });
    },
    post: (_surface, channel, report) => {
      if (postFails) return Promise.reject(new Error('not_in_channel'));
      posted.push({ channel, report });
      return Promise.resolve();
    },
  };
  return { reporter, asked, posted };
}

const as = (user: string, reporter?: Reporter): CommandContext => {
  const ctx = h.ctx(user);
  return { ...ctx, deps: { ...ctx.deps, ...(reporter ? { reporter } : { reporter: undefined }) } };
};

describe('report', () => {
  it('reads the named cluster and posts the report in the channel it was asked in', async () => {
    const f = fakeReporter();
    const ctx = as('UALICE', f.reporter);
    await reportCommand.run(ctx, ['lab']);
    expect(f.asked).toEqual([['lab']]);
    expect(f.posted.map((p) => [p.channel, p.report.clusters.map((c) => c.cluster)])).toEqual([
      [ctx.actor.channel, ['lab']],
    ]);
    expect(h.surface.said.map((s) => [s.kind, s.text])).toEqual([
      ['ephemeral', 'Reading 1 cluster: the report follows in this channel.'],
    ]);
  });

  it('reads every cluster the asker may read when none is named', async () => {
    const f = fakeReporter();
    await reportCommand.run(as('UALICE', f.reporter), []);
    expect(f.asked).toEqual([['lab', 'other']]);
  });

  it('reads nothing for someone who may not read the cluster', async () => {
    const f = fakeReporter();
    await reportCommand.run(as('UMALLORY', f.reporter), ['lab']);
    expect(f.asked).toEqual([]);
    expect(f.posted).toEqual([]);
    expect(h.surface.last()?.text).toContain('You may not see the health of lab here');
  });

  it('refuses usage errors and says when reports are not set up or cannot be posted', async () => {
    const f = fakeReporter();
    await reportCommand.run(as('UALICE', f.reporter), ['lab', 'other']);
    expect(h.surface.last()?.text).toContain('report takes at most one cluster');
    await reportCommand.run(as('UALICE', f.reporter), ['nope']);
    expect(f.asked).toEqual([]);
    await reportCommand.run(as('UALICE'), ['lab']);
    expect(h.surface.last()?.text).toContain('Health reports are not set up in this kbops.');
    const failing = fakeReporter(true);
    await reportCommand.run(as('UALICE', failing.reporter), ['lab']);
    expect(h.surface.last()?.text).toBe(
      'The report could not be posted here: not_in_channel. Is kbops in this channel?',
    );
  });
});
