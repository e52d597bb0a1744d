import type { SealedPlan } from '../../../src/core/plan';
import type { PoolNode } from '../../../src/probes/pool-nodes';
import type { ReplicationEntry } from '../../../src/probes/replication';
import { helpMessage, SUBCOMMANDS, usageOf } from '../../../src/render/help-message';
import { runsMessage } from '../../../src/render/runs-message';
import { bytesText, lsnBytes, replayLag, statusMessage } from '../../../src/render/status-message';
import { usageError } from '../../../src/render/usage-error';
import {
  expectGolden,
  expectWithinLimits,
  NOW,
  runOf,
  shownText,
  stepIndex,
  writeupFixture,
} from './render-fixture';

let plan: SealedPlan;
beforeAll(async () => {
  ({ plan } = await writeupFixture());
});

/** The write-up's cluster after the expansion: `show pool_nodes` and sys_stat_replication on srv127. */
const POOL: PoolNode[] = [
  {
    nodeId: 0,
    hostname: '192.168.4.129',
    port: 54321,
    status: 'up',
    lbWeight: 0.333333,
    role: 'standby',
    roleStale: false,
    replicationDelay: 0,
  },
  {
    nodeId: 1,
    hostname: '192.168.4.127',
    port: 54321,
    status: 'up',
    lbWeight: 0.333333,
    role: 'primary',
    roleStale: false,
    replicationDelay: 0,
  },
  {
    nodeId: 2,
    hostname: '192.168.4.159',
    port: 54321,
    status: 'down',
    lbWeight: 0.333333,
    role: 'standby',
    roleStale: true,
    replicationDelay: 16384,
  },
];
const REPLICATION: ReplicationEntry[] = [
  {
    pid: 4211,
    applicationName: 'srv129',
    clientAddr: '192.168.4.129',
    state: 'streaming',
    sent: '0/5000140',
    write: '0/5000140',
    flush: '0/5000140',
    replay: '0/5000140',
    syncState: 'async',
  },
  {
    pid: 5120,
    applicationName: 'srv159',
    clientAddr: '192.168.4.159',
    state: 'catchup',
    sent: '0/5000140',
    write: '0/4F00000',
    flush: '0/4F00000',
    replay: '0/4E7FEC0',
    syncState: 'async',
  },
];

describe('helpMessage and usageOf', () => {
  it('lists every sub-command with its usage (golden)', () => {
    const m = helpMessage();
    expectGolden('help', m);
    expectWithinLimits(m);
    for (const s of SUBCOMMANDS) expect(shownText(m)).toContain(`/kingbase ${s.name}`);
  });

  it('gives the form of one sub-command', () => {
    expect(usageOf('status')).toBe('/kingbase status <cluster>');
    expect(usageOf('help')).toBe('/kingbase help');
    expect(usageOf('nope')).toBeNull();
  });
});

describe('usageError', () => {
  it('says what was wrong and the right form, only to the one who typed it (golden)', () => {
    const m = usageError({
      problem: 'host: "192.168.4.1599" is not an IP address or host name',
      subcommand: 'add-node',
    });
    expectGolden('usage-error', m);
    expectWithinLimits(m);
    expect(m.response_type).toBe('ephemeral');
  });

  it('escapes the quoted input and lists the commands for an unknown one', () => {
    const m = usageError({ problem: 'unknown command "<!channel>"', subcommand: '<!channel>' });
    expect(shownText(m)).not.toContain('<!channel>');
    expect(shownText(m)).toContain('&lt;!channel&gt;');
    expect(shownText(m)).toContain('*Commands:* `add-node`, `status`');
  });
});

describe('statusMessage', () => {
  it('tables the pool nodes and the replication with its lag (golden)', () => {
    const m = statusMessage({ cluster: 'ESHA', poolNodes: POOL, replication: REPLICATION, now: NOW });
    expectGolden('status', m);
    expectWithinLimits(m);
    expect(m.text).toBe('ESHA: 2/3 pool nodes up, 1 of 2 standbys streaming');
    expect(shownText(m)).toContain(':x: node 2 (192.168.4.159) is down');
  });

  it('says plainly what could not be read', () => {
    const m = statusMessage({
      cluster: 'ESHA',
      poolNodes: null,
      replication: null,
      now: NOW,
      problems: ['kingbasecluster on 192.168.4.127:9999: connection refused (password=hunter2hunter2)'],
    });
    expectWithinLimits(m);
    expect(m.text).toBe('ESHA: pool did not answer, replication unknown');
    expect(shownText(m)).not.toContain('hunter2hunter2');
  });

  it('computes WAL lag from X/Y positions', () => {
    expect(lsnBytes('1/0')).toBe(4294967296n);
    expect(lsnBytes('junk')).toBeNull();
    expect(replayLag(REPLICATION[1]!)).toBe('1.5 MiB');
    expect(replayLag({ ...REPLICATION[1]!, replay: null })).toBe('-');
    expect([bytesText(0n), bytesText(512n), bytesText(12_288n), bytesText(3n * 1024n ** 3n)]).toEqual([
      '0 B',
      '512 B',
      '12.0 KiB',
      '3.0 GiB',
    ]);
  });
});

describe('runsMessage', () => {
  it('lists runs with their state, step, requester and age (golden)', () => {
    const runs = [
      runOf(plan, 'running', {
        id: 'run_c3',
        nextStep: stepIndex(plan, 'basebackup'),
        createdAt: '2020-10-23T12:10:00.000Z',
      }),
      runOf(plan, 'failed', {
        id: 'run_b2',
        nextStep: stepIndex(plan, 'start'),
        createdAt: '2020-10-22T09:00:00.000Z',
      }),
      runOf(plan, 'succeeded', {
        id: 'run_a1',
        nextStep: plan.steps.length,
        createdAt: '2020-10-20T08:00:00.000Z',
        requester: 'root',
      }),
    ];
    const m = runsMessage({ runs, now: NOW, cluster: 'ESHA' });
    expectGolden('runs', m);
    expectWithinLimits(m);
    expect(shownText(m)).toContain('failed at step 16/32');
    expect(shownText(m)).toContain('by @root');
  });

  it('says when there are none', () => {
    expect(shownText(runsMessage({ runs: [], now: NOW }))).toContain('_No runs yet._');
  });
});
