import { nodesAnswerCheck, onePrimaryCheck, poolChecks, sshLoginCheck } from '../../cluster/common-checks';
import { fail, pass, warn, type Check } from '../../core/check';
import type { Dialect } from '../../dialects/dialect';
import { primaryOf, targetNameOf, type FailoverFacts, type FailoverNode } from './failover-facts';
import type { FailoverParams } from './failover-params';
import { rejoinersOf } from './plan-restore';

// What a DBA checks before pulling the plug, and before bringing the stopped nodes back. Pure.

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

const sshChecks = (f: FailoverFacts, user: string): Check[] =>
  f.nodes.map((n) =>
    sshLoginCheck(
      `ssh-${n.name}`,
      {
        host: n.host,
        sshPort: n.sshPort,
        reachable: n.sshOk,
        ...(n.sshError !== undefined && { sshError: n.sshError }),
      },
      user,
    ),
  );

const answering = (nodes: readonly FailoverNode[]) =>
  nodes.map((n) => ({
    name: n.name,
    host: n.host,
    inRecovery: n.inRecovery,
    ...(n.sqlError !== undefined && { error: n.sqlError }),
  }));

function failoverChecks(f: FailoverFacts, T: FailoverNode | undefined): Check[] {
  if (f.failover.length === 0)
    return [
      fail(
        'manager-failover',
        'no cluster manager configuration was read: nothing would promote a standby',
        'describe the manager (pgpool-II or kingbasecluster) in the inventory, then plan again',
      ),
    ];
  return f.failover.map((c) => {
    const name = `failover-${c.node}`;
    if (T?.poolIndex != null && c.disallowed.includes(T.poolIndex))
      return fail(
        name,
        `backend ${T.poolIndex} (${T.name}) is DISALLOW_TO_FAILOVER on ${c.node}`,
        'allow it (backend_flag = ALLOW_TO_FAILOVER), or choose another target',
      );
    if (c.healthCheckPeriod === null || c.healthCheckPeriod <= 0)
      return warn(
        name,
        `health_check_period is ${c.healthCheckPeriod ?? 'unreadable'} on ${c.node}: the manager will not notice the primary stop`,
        'turn health checks on (health_check_period > 0) if the cluster should fail over; otherwise the drill shows that it does not, and puts the cluster back',
      );
    if (c.failoverCommand === '')
      return warn(
        name,
        `failover_command is empty on ${c.node}: the manager will not promote anyone`,
        'set failover_command (kingbasecluster: its failover script) if the cluster should fail over; otherwise the drill shows that it does not, and puts the cluster back',
      );
    return pass(name, `failover_command set, health check every ${c.healthCheckPeriod} s on ${c.node}`);
  });
}

export function preflightDrill(f: FailoverFacts, params: FailoverParams, d: Dialect): Check[] {
  const checks: Check[] = [nodesAnswerCheck(answering(f.nodes)), onePrimaryCheck(answering(f.nodes))];
  const P = primaryOf(f);
  const name = targetNameOf(f, params.target);
  const T = f.nodes.find((n) => n.name === name);
  if (!T)
    checks.push(
      fail(
        'target',
        `${name ?? 'no node'} is not a data node of ${params.cluster.name} (nodes: ${f.nodes.map((n) => n.name).join(', ')})`,
        'give target=<node> of a standby',
      ),
    );
  else if (T === P)
    checks.push(
      fail('target', `${T.name} is the primary`, 'the target must be a standby: give target=<standby>'),
    );
  else if (T.poolIndex === null)
    checks.push(
      fail(
        'target',
        `the cluster manager does not list ${T.name} (${T.host})`,
        'add it to the manager (add-node does) so it can be promoted',
      ),
    );
  else checks.push(pass('target', `${T.name} (backend ${T.poolIndex}) is the standby expected to take over`));
  const standbys = f.nodes.filter((n) => n !== P);
  for (const n of standbys) {
    const r = f.replication?.find((e) => e.applicationName === n.name);
    if (!r || r.state !== 'streaming')
      checks.push(
        fail(
          `streaming-${n.name}`,
          `${n.name} is not streaming from ${P?.name ?? 'the primary'}${r ? ` (${r.state})` : ''}`,
          'repair replication first',
        ),
      );
    else if (n === T && (r.lagBytes === null || r.lagBytes > f.maxLagBytes))
      checks.push(
        fail(
          `streaming-${n.name}`,
          `${n.name} replays ${r.lagBytes === null ? 'an unknown amount' : mb(r.lagBytes)} behind (at most ${mb(f.maxLagBytes)})`,
          'wait until it has caught up, then plan again',
        ),
      );
    else
      checks.push(
        pass(
          `streaming-${n.name}`,
          `${n.name} streams, ${r.lagBytes === null ? 'lag unknown' : `${mb(r.lagBytes)} behind`}`,
        ),
      );
  }
  checks.push(...poolChecks(f.managers), ...failoverChecks(f, T));
  if (P)
    checks.push(
      P.rewindable === true
        ? pass(
            'rewind-ready',
            `${P.name} runs with wal_log_hints or data checksums: it can be rewound if it diverges`,
          )
        : fail(
            'rewind-ready',
            `${P.name} has neither wal_log_hints nor data checksums on${P.rewindable === null ? ' (or they could not be read)' : ''}`,
            'turn wal_log_hints on (needs a restart) so the old primary can rejoin by rewind, then plan again',
          ),
    );
  checks.push(...sshChecks(f, params.cluster.ssh.user));
  if (T && P && T !== P) {
    const others = standbys.filter((n) => n !== T);
    checks.push(
      pass(
        'expected-winner',
        `${T.name}: once ${[...others.map((n) => n.name), P.name].join(' and ')} ${others.length ? 'are' : 'is'} stopped it is the only live standby, and the manager promotes the lowest-numbered live backend`,
      ),
      warn(
        'impact',
        `writes fail from the moment ${P.name} stops until ${T.name} is promoted (up to ${Math.round(params.waitMs / 1000)} s); the pool drops every session; ${[...others.map((n) => n.name), P.name].join(', ')} stay stopped until the restore`,
        "run it in a maintenance window and tell the applications' owners; if no promotion happens in time the drill puts the cluster back",
      ),
    );
  }
  void d;
  return checks;
}

export function preflightRestore(f: FailoverFacts, params: FailoverParams, d: Dialect): Check[] {
  const running = f.nodes.filter((n) => n.running !== false);
  const checks: Check[] = [
    onePrimaryCheck(answering(running), 'the restore needs exactly one running primary to follow'),
  ];
  const N = primaryOf(f);
  const unknown = f.nodes.filter((n) => n.running === null);
  if (unknown.length > 0)
    checks.push(
      fail(
        'nodes-known',
        `cannot tell whether ${unknown.map((n) => n.name).join(', ')} run${unknown.length === 1 ? 's' : ''}`,
        'make every node reachable over SSH, then plan again',
      ),
    );
  const R = rejoinersOf({ facts: f });
  if (R.length === 0)
    checks.push(fail('rejoin', 'no data node is stopped: there is nothing to restore', 'nothing to do'));
  for (const X of R) {
    const r = X.rewind;
    if (r?.need === 'not-needed')
      checks.push(
        pass(
          `rejoin-${X.name}`,
          `${X.name} can follow ${N?.name ?? 'the primary'} as it is (${d.tools.rewind} --dry-run: no rewind required)`,
        ),
      );
    else if (r?.need === 'needed')
      checks.push(
        warn(
          `rejoin-${X.name}`,
          `${X.name} diverged from ${N?.name ?? 'the primary'} (${r.said}): it will be rewound with ${d.tools.rewind}`,
          `the rewind cannot be undone: what ${X.name} wrote after the two diverged is lost (its own configuration is kept and put back)`,
        ),
      );
    else
      checks.push(
        fail(
          `rejoin-${X.name}`,
          `cannot tell whether ${X.name} can follow ${N?.name ?? 'the primary'}: ${r?.said ?? 'not checked'}`,
          'look at the message, fix it, then plan again',
        ),
      );
  }
  for (const n of running.filter((x) => x !== N && x.inRecovery === true)) {
    const r = f.replication?.find((e) => e.applicationName === n.name);
    checks.push(
      r?.state === 'streaming'
        ? pass(`streaming-${n.name}`, `${n.name} streams from ${N?.name}`)
        : fail(
            `streaming-${n.name}`,
            `${n.name} runs but does not stream from ${N?.name ?? 'the primary'}`,
            'repair it first',
          ),
    );
  }
  checks.push(
    ...f.managers.map((m) =>
      m.error || m.poolNodes === null
        ? fail(
            `pool-${m.node}`,
            m.error ?? 'the pool did not answer',
            'start the cluster manager, then plan again',
          )
        : pass(`pool-${m.node}`, `the pool answers on ${m.host}:${m.sqlPort}`),
    ),
    ...sshChecks(f, params.cluster.ssh.user),
  );
  return checks;
}
