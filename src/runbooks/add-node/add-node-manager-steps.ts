import { posix } from 'node:path';
import { managerControl, poolListsBackend, poolNodesQuery } from '../../cluster/manager-control';
import { change, editFile, readOnly, repeatable, ssh } from '../../cluster/step-builders';
import { poolTargetName } from '../../cluster/target-of';
import type { Step } from '../../core/plan';
import { stdinSecretToPcpPass } from '../../shell/shell-command';
import type { PlanContext } from './add-node-plan-context';

// Part two of the procedure: tell the cluster manager (pgpool-II or kingbasecluster) about the node.
// Online where the manager can (reload + pcp_attach_node), otherwise the ordered restart of the
// write-up. Never pcp_node_refresh on the primary: it triggers a failover.
//
// Reloads, stops and starts change the cluster and count as changes. None has an undo of its own:
// each manager's config edit comes first, and its undo puts the old file back and makes the
// manager read it (reload, or stop and start, which also brings back a manager left stopped).
// Starting a manager in a stop's undo instead would fail on a manager already running again, or
// start it with the very settings being rolled back, and stop the rollback before the old file is back.

export function managerSteps(ctx: PlanContext): { steps: Step[]; expectedWeight: string | null } {
  const { snapshot: snap, params, dialect: d } = ctx;
  const managers = snap.managers;
  const mgr = params.cluster.manager;
  if (managers.length === 0 || !mgr) return { steps: [], expectedWeight: null };
  const N = snap.newHost;
  const index = Math.max(-1, ...managers.flatMap((m) => m.backends.map((b) => b.index))) + 1;
  const total = (managers[0]?.backends ?? []).reduce((s, b) => s + b.weight, 0) + 1;
  const control = managerControl(mgr);
  const pcp = (tool: string, m: (typeof managers)[number]) =>
    stdinSecretToPcpPass(m.host, m.pcpPort, mgr.pcpUser, [
      posix.join(mgr.binDir, tool),
      ...['-h', m.host, '-p', String(m.pcpPort), '-U', mgr.pcpUser, '-w', '-n', String(index)],
    ]);
  const steps: Step[] = [];
  // Present once the manager runs with the new backend in its configuration, and from then on.
  const listsNewBackend = poolListsBackend(index, N.host);
  const undoneBy = (m: (typeof managers)[number], what: string) =>
    `nothing of its own to undo: undoing pool-conf-${m.node} puts the file back and ${what}`;

  for (const m of managers) {
    const entries: Record<string, string> = {
      [d.manager.hostname(index)]: `'${N.host}'`,
      [d.manager.port(index)]: String(N.sqlPort),
      [d.manager.weight(index)]: '1',
      [d.manager.dataDirectory(index)]: `'${N.dataDir}'`,
      [d.manager.flag(index)]: "'ALLOW_TO_FAILOVER'",
      ...(m.usesApplicationName &&
        d.manager.applicationName && { [d.manager.applicationName(index)]: `'${N.name}'` }),
    };
    steps.push(
      editFile(
        `pool-conf-${m.node}`,
        `add ${N.name} as backend ${index} in ${posix.basename(m.configFile)} on ${m.node}`,
        poolTargetName(m.node),
        m.config,
        { type: 'set-keys', entries },
        // Undone: the old config back, then the manager made to read it (reload, or the restart
        // that also brings back a manager a failed restart left stopped).
        {
          after: d.caps.poolOnlineAttach
            ? [control.reload(m.configFile)]
            : [control.stop(m.configFile), control.start(m.configFile)],
        },
      ),
    );
  }

  if (d.caps.poolOnlineAttach) {
    for (const m of managers) {
      steps.push(
        // Not probed: a backend a rolled-back attempt told the pool about stays listed (down) until
        // a restart, so "the pool lists it" would wrongly read as "reloaded".
        repeatable(
          `pool-reload-${m.node}`,
          `reload ${mgr.kind} on ${m.node}`,
          poolTargetName(m.node),
          control.reload(m.configFile),
          {
            note: undoneBy(m, 'reloads again'),
          },
        ),
      );
    }
    // Attaching once is enough: with a watchdog the managers share backend states.
    const first = managers[0]!;
    steps.push(
      change(
        'pool-attach',
        `attach backend ${index} (${N.name}) online`,
        poolTargetName(first.node),
        ssh(pcp('pcp_attach_node', first), { stdinSecret: 'pcp.password' }),
        [ssh(pcp('pcp_detach_node', first), { stdinSecret: 'pcp.password', okExitCodes: [0, 1] })],
        {
          probe: poolNodesQuery,
          present: { kind: 'some-row', where: { node_id: String(index), status: 'up' } },
        },
        { note: 'the PCP password reaches pcp_attach_node through a temporary PCPPASSFILE, from stdin' },
      ),
    );
  } else {
    // The write-up's order: stop the standby manager, then the master; start the master, then the standby.
    // A stopped manager answers nothing, so after a crash between a stop and its start a resume
    // cannot tell where the run was and offers the rollback instead.
    const order = [...managers].reverse();
    order.forEach((m) =>
      steps.push(
        change(
          `pool-stop-${m.node}`,
          `stop ${mgr.kind} on ${m.node}`,
          poolTargetName(m.node),
          control.stop(m.configFile),
          [],
          listsNewBackend,
          { timeoutMs: 2 * 60_000, note: undoneBy(m, 'starts it again') },
        ),
      ),
    );
    managers.forEach((m) =>
      steps.push(
        change(
          `pool-start-${m.node}`,
          `start ${mgr.kind} on ${m.node}`,
          poolTargetName(m.node),
          control.start(m.configFile),
          [],
          listsNewBackend,
          { timeoutMs: 2 * 60_000, note: undoneBy(m, 'restarts it') },
        ),
      ),
    );
    steps.push(
      readOnly(
        'pool-ready',
        `wait until ${managers[0]!.node}'s pool answers`,
        poolTargetName(managers[0]!.node),
        {
          kind: 'wait-until',
          probe: poolNodesQuery,
          until: { kind: 'row-count', min: 1 },
          intervalMs: 1000,
        },
        5 * 60_000,
      ),
    );
  }
  return { steps, expectedWeight: (1 / total).toFixed(6) };
}
