import {
  nodesAnswerCheck,
  onePrimaryCheck,
  poolChecks,
  sshLoginCheck,
  standbysStreamingCheck,
} from '../../../src/cluster/common-checks';
import type { ManagerFacts } from '../../../src/cluster/cluster-facts';

// The checks every runbook makes of its cluster, on their own (add-node's preflight tests cover them
// with add-node's hints): each names what is wrong and says what to do.

const nodes = [
  { name: 'srv11', host: '127.0.0.11', inRecovery: false },
  { name: 'srv12', host: '127.0.0.12', inRecovery: true },
];
const streaming = [{ applicationName: 'srv12', state: 'streaming' }];

const manager = (over: Partial<ManagerFacts> = {}): ManagerFacts => ({
  node: 'srv11',
  host: '127.0.0.10',
  sqlPort: 9999,
  pcpPort: 9898,
  configFile: '/etc/pgpool.conf',
  config: { path: '/etc/pgpool.conf', sha256: 'b'.repeat(64) },
  backends: [
    { index: 0, hostname: '127.0.0.11', port: 54321, weight: 1 },
    { index: 1, hostname: '127.0.0.12', port: 54321, weight: 1 },
  ],
  usesApplicationName: true,
  poolNodes: [
    { nodeId: 0, hostname: '127.0.0.11', port: 54321, status: 'up', role: 'primary', lbWeight: 0.5 },
    { nodeId: 1, hostname: '127.0.0.12', port: 54321, status: 'waiting', role: 'standby', lbWeight: 0.5 },
  ],
  ...over,
});

describe('common cluster checks', () => {
  it('pass on a healthy cluster', () => {
    expect([
      nodesAnswerCheck(nodes),
      onePrimaryCheck(nodes),
      standbysStreamingCheck(nodes, streaming),
      ...poolChecks([manager()]),
    ]).toEqual([
      { name: 'nodes-answer', status: 'pass', message: 'all 2 nodes answer SQL' },
      { name: 'one-primary', status: 'pass', message: 'srv11 is the primary' },
      { name: 'standbys-streaming', status: 'pass', message: 'srv12 streaming' },
      { name: 'pool-srv11', status: 'pass', message: '2 pool nodes up on 127.0.0.10:9999' },
    ]);
  });

  it('fail with the reason, and a generic hint unless the runbook gives its own', () => {
    const silent = [{ ...nodes[0]!, inRecovery: null, error: 'connection refused' }, nodes[1]!];
    expect(nodesAnswerCheck(silent)).toEqual({
      name: 'nodes-answer',
      status: 'fail',
      message: 'srv11 (127.0.0.11) does not answer: connection refused',
      hint: 'bring every node up first',
    });
    expect(onePrimaryCheck(silent).message).toBe('0 nodes are primaries (none)');
    // With no primary known, only the nodes that say they are standbys are expected to stream.
    expect(standbysStreamingCheck(silent, undefined)).toMatchObject({
      status: 'fail',
      message: 'srv12 not streaming from the primary',
    });
    expect(standbysStreamingCheck(nodes, [{ applicationName: 'srv12', state: 'catchup' }]).status).toBe(
      'fail',
    );
  });

  it('judge each pool: not answering, a configured backend down, a stale one left by a rollback', () => {
    expect(
      poolChecks([manager({ poolNodes: null, error: 'pool on 127.0.0.10:9999 did not answer: refused' })])[0],
    ).toEqual({
      name: 'pool-srv11',
      status: 'fail',
      message: 'pool on 127.0.0.10:9999 did not answer: refused',
      hint: 'start the cluster manager, then plan again',
    });
    const down = manager().poolNodes!.map((p) => (p.nodeId === 1 ? { ...p, status: 'down' } : p));
    expect(poolChecks([manager({ poolNodes: down })])[0]).toMatchObject({
      status: 'fail',
      message: 'node 1 (127.0.0.12) is down',
      hint: 'bring it back (pcp_attach_node) first',
    });
    const stale = [
      ...manager().poolNodes!,
      { ...manager().poolNodes![1]!, nodeId: 2, hostname: '127.0.0.13' },
    ];
    expect(poolChecks([manager({ poolNodes: stale })])[0]).toMatchObject({
      status: 'warn',
      message: 'pool lists node 2 (127.0.0.13) that its config no longer has',
    });
  });

  it('say how an SSH login went, with a hint fitting why it failed', () => {
    const host = { host: '127.0.0.13', sshPort: 2222 };
    expect(sshLoginCheck('ssh-x', { ...host, reachable: true }, 'kingbase')).toEqual({
      name: 'ssh-x',
      status: 'pass',
      message: 'logged in to 127.0.0.13 as kingbase with its pinned host key',
    });
    const failed = (sshErrorCode?: string) =>
      sshLoginCheck(
        'ssh-x',
        { ...host, reachable: false, sshError: 'nope', ...(sshErrorCode && { sshErrorCode }) },
        'kingbase',
      );
    expect(failed('timeout').hint).toBe(
      'start sshd on 127.0.0.13, or check the address and the SSH port (now 2222)',
    );
    expect(failed('host-key-mismatch').hint).toContain('verify 127.0.0.13');
    expect(failed('auth-failed').hint).toContain('~kingbase/.ssh/authorized_keys');
    expect(failed().message).toBe('cannot log in to 127.0.0.13:2222: nope');
    expect(
      sshLoginCheck('ssh-x', { ...host, reachable: false, sshErrorCode: 'unreachable' }, 'k', '--ssh-port')
        .hint,
    ).toBe('start sshd on 127.0.0.13, or check the address and --ssh-port (now 2222)');
  });
});
