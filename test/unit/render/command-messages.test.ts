import type { SealedPlan } from '../../../src/core/plan';
import type { PoolNode } from '../../../src/probes/pool-nodes';
import type { ClusterHealth, NodeHealth } from '../../../src/probes/cluster-health';
import { runsMessage } from '../../../src/render/runs-message';
import { bytesText, secondsText, statusMessage } from '../../../src/render/status-message';
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

/** The write-up's cluster shape after the expansion, srv159 still catching up, srv129's manager stopped. */
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
const node = (name: string, role: NodeHealth['role'], walPosition: string | null): NodeHealth => ({
  name,
  host: `192.168.4.${name.slice(3)}`,
  sqlPort: 54321,
  reachable: true,
  role,
  walPosition,
  problem: null,
});
const HEALTH: ClusterHealth = {
  cluster: 'ESHA',
  dialect: 'postgresql',
  readAt: '2020-10-23T12:17:30.000Z',
  nodes: [
    node('srv127', 'primary', '0/5000140'),
    node('srv129', 'standby', '0/5000140'),
    node('srv159', 'standby', '0/4E7FEC0'),
  ],
  primary: 'srv127',
  replication: [
    {
      applicationName: 'srv129',
      clientAddr: '192.168.4.129',
      state: 'streaming',
      syncState: 'async',
      sent: '0/5000140',
      replay: '0/5000140',
      lagBytes: 0,
      lagSeconds: null,
    },
    {
      applicationName: 'srv159',
      clientAddr: '192.168.4.159',
      state: 'catchup',
      syncState: 'async',
      sent: '0/5000140',
      replay: '0/4E7FEC0',
      lagBytes: 0x5000140 - 0x4e7fec0,
      lagSeconds: 2.5,
    },
  ],
  replicationProblem: null,
  slots: [
    { name: 'slot_old', type: 'physical', active: false, restartLsn: '0/2000028', retainedBytes: 33554840 },
    { name: 'slot_srv129', type: 'physical', active: true, restartLsn: '0/5000140', retainedBytes: 0 },
    { name: 'slot_srv159', type: 'physical', active: true, restartLsn: '0/4E7FEC0', retainedBytes: 1573504 },
  ],
  slotsProblem: null,
  pools: [
    { node: 'srv127', host: '192.168.4.127', sqlPort: 9999, poolNodes: POOL, problem: null },
    {
      node: 'srv129',
      host: '192.168.4.129',
      sqlPort: 9999,
      poolNodes: null,
      problem: 'pool on 192.168.4.129:9999 did not answer: connect ECONNREFUSED 192.168.4.129:9999',
    },
  ],
};

describe('statusMessage', () => {
  it('summarises the reading, then tables nodes, replication with its lag, slots and each pool (golden)', () => {
    const m = statusMessage(HEALTH);
    expectGolden('status', m);
    expectWithinLimits(m);
    expect(m.text).toBe(
      "ESHA: 3/3 nodes answer, 2/3 pool nodes up on srv127, srv129's pool did not answer, 1 of 2 standbys streaming",
    );
    const shown = shownText(m);
    expect(shown).toContain(':x: srv159 not streaming from srv127');
    expect(shown).toContain(":x: srv127's pool: node 2 (192.168.4.159) is down");
    expect(shown).toContain(":x: srv129's pool: the cluster manager did not answer `show pool_nodes`");
    expect(shown).toContain(':warning: inactive slot holds WAL: slot_old (32.0 MiB)');
    expect(shown).toContain('srv159   192.168.4.159  catchup    async  0/5000140  0/4E7FEC0  1.5 MiB  2.5 s');
    // No replay time measured lately (or V8R3, which has none): unknown, not zero.
    expect(shown).toContain('srv129   192.168.4.129  streaming  async  0/5000140  0/5000140  0 B      ?');
  });

  it('shows what could not be read as unknown, with the reason, scrubbed', () => {
    const silent = (name: string): NodeHealth => ({
      ...node(name, 'unknown', null),
      reachable: false,
      problem: `connect ETIMEDOUT (password=hunter2hunter2) ${name}`,
    });
    const why = 'no node says it is the primary (srv127, srv129 could not tell)';
    const m = statusMessage({
      ...HEALTH,
      nodes: [silent('srv127'), silent('srv129')],
      primary: null,
      replication: null,
      replicationProblem: why,
      slots: null,
      slotsProblem: why,
      pools: [HEALTH.pools[1]!],
    });
    expectWithinLimits(m);
    expect(m.text).toBe('ESHA: 0/2 nodes answer, pool did not answer, replication unknown');
    const shown = shownText(m);
    expect(shown).toContain(
      ':x: srv127 (192.168.4.127) does not answer, srv129 (192.168.4.129) does not answer',
    );
    expect(shown).toContain(`:x: ${why}`);
    expect(shown).not.toContain(':white_check_mark:');
    expect(shown).not.toContain('hunter2hunter2');
    expect(shown.split(why).length - 1).toBe(1); // said once, not once per part
  });

  it('says when a lag is unknown rather than showing none', () => {
    const m = statusMessage({
      ...HEALTH,
      replication: HEALTH.replication!.map((e) => ({ ...e, lagBytes: null })),
      replicationProblem: "lag in bytes unknown: the primary's WAL position could not be read: timeout",
    });
    const shown = shownText(m);
    expect(shown).toContain(':warning: lag unknown for srv129, srv159');
    expect(shown).toContain(
      ":warning: lag in bytes unknown: the primary's WAL position could not be read: timeout",
    );
  });

  it("stays within Slack's limits and shows no secret whatever the reading holds", () => {
    const huge = (n: number): string => '<!channel> & ``` 😀 x'.repeat(Math.ceil(n / 20)).slice(0, n);
    const leaky = `connect password=hunter2hunter2 ${huge(4000)}`;
    const m = statusMessage({
      cluster: huge(300),
      dialect: huge(50),
      readAt: HEALTH.readAt,
      nodes: Array.from({ length: 500 }, (_, i) => ({
        ...node(`srv${i}`, i % 3 ? 'standby' : 'unknown', null),
        host: huge(253),
        reachable: i % 2 === 0,
        problem: leaky,
      })),
      primary: huge(100),
      replication: Array.from({ length: 5000 }, () => ({
        ...HEALTH.replication![1]!,
        applicationName: huge(200),
        clientAddr: huge(100),
        state: huge(50),
        lagBytes: Number.MAX_SAFE_INTEGER,
        lagSeconds: 1e12,
      })),
      replicationProblem: leaky,
      slots: Array.from({ length: 5000 }, (_, i) => ({
        ...HEALTH.slots![0]!,
        name: huge(64),
        active: i % 2 === 0,
      })),
      slotsProblem: leaky,
      pools: Array.from({ length: 20 }, (_, i) => ({
        node: huge(60),
        host: huge(253),
        sqlPort: 9999,
        poolNodes: i % 2 ? null : Array.from({ length: 500 }, () => ({ ...POOL[2]!, hostname: huge(253) })),
        problem: i % 2 ? leaky : null,
      })),
    });
    expectWithinLimits(m);
    expect(shownText(m)).not.toContain('hunter2hunter2');
    // In mrkdwn and the fallback text every value is escaped (the header is plain text).
    const mrkdwn: string[] = [m.text];
    JSON.stringify(m.blocks, (_k, v: unknown) => {
      const t = v as { type?: unknown; text?: unknown } | null;
      if (t !== null && typeof t === 'object' && t.type === 'mrkdwn' && typeof t.text === 'string')
        mrkdwn.push(t.text);
      return v;
    });
    expect(mrkdwn.length).toBeGreaterThan(5);
    expect(mrkdwn.filter((t) => t.includes('<!channel>'))).toEqual([]);
  });

  it('writes bytes and seconds for people', () => {
    expect([bytesText(0n), bytesText(512), bytesText(12_288n), bytesText(3n * 1024n ** 3n)]).toEqual([
      '0 B',
      '512 B',
      '12.0 KiB',
      '3.0 GiB',
    ]);
    expect([secondsText(0.112489), secondsText(2.5), secondsText(300)]).toEqual([
      '112 ms',
      '2.5 s',
      '5.0 min',
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
