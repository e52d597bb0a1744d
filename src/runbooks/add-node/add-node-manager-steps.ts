import { posix } from 'node:path';
import type { Step } from '../../core/plan';
import { stdinSecretToPcpPass } from '../../shell/shell-command';
import { change, check, editFile, ssh } from './add-node-steps';
import type { PlanContext } from './add-node-plan-context';

// Part two of the procedure: tell the cluster manager (pgpool-II or kingbasecluster) about the node.
// Online where the manager can (reload + pcp_attach_node), otherwise the ordered restart of the
// write-up. Never pcp_node_refresh on the primary: it triggers a failover.

export function managerSteps(ctx: PlanContext): { steps: Step[]; expectedWeight: string | null } {
  const { snapshot: snap, params, dialect: d } = ctx;
  const managers = snap.managers;
  const mgr = params.cluster.manager;
  if (managers.length === 0 || !mgr) return { steps: [], expectedWeight: null };
  const N = snap.newHost;
  const index = Math.max(-1, ...managers.flatMap((m) => m.backends.map((b) => b.index))) + 1;
  const total = (managers[0]?.backends ?? []).reduce((s, b) => s + b.weight, 0) + 1;
  const binary = posix.join(mgr.binDir, mgr.kind === 'pgpool' ? 'pgpool' : 'kingbasecluster');
  const pcp = (tool: string, m: (typeof managers)[number]) =>
    stdinSecretToPcpPass(m.host, m.pcpPort, mgr.pcpUser, [
      posix.join(mgr.binDir, tool),
      ...['-h', m.host, '-p', String(m.pcpPort), '-U', mgr.pcpUser, '-w', '-n', String(index)],
    ]);
  const steps: Step[] = [];
  const stopManager = (conf: string) =>
    ssh([binary, '-f', conf, '-m', 'fast', 'stop'], { okExitCodes: [0, 1] });
  const startManager = (conf: string) => ssh([binary, '-f', conf]);

  for (const m of managers) {
    const reload = ssh([binary, '-f', m.configFile, 'reload']);
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
        `pool-${m.node}`,
        m.config,
        { type: 'set-keys', entries },
        // Undone: the old config back, then the manager made to read it (reload, or the restart
        // that also brings back a manager a failed restart left stopped).
        {
          after: d.caps.poolOnlineAttach ? [reload] : [stopManager(m.configFile), startManager(m.configFile)],
        },
      ),
    );
  }

  if (d.caps.poolOnlineAttach) {
    for (const m of managers) {
      steps.push(
        check(
          `pool-reload-${m.node}`,
          `reload ${mgr.kind} on ${m.node}`,
          `pool-${m.node}`,
          ssh([binary, '-f', m.configFile, 'reload']),
        ),
      );
    }
    // Attaching once is enough: with a watchdog the managers share backend states.
    const first = managers[0]!;
    steps.push(
      change(
        'pool-attach',
        `attach backend ${index} (${N.name}) online`,
        `pool-${first.node}`,
        ssh(pcp('pcp_attach_node', first), { stdinSecret: 'pcp.password' }),
        [ssh(pcp('pcp_detach_node', first), { stdinSecret: 'pcp.password', okExitCodes: [0, 1] })],
        {
          probe: { kind: 'sql', sql: 'show pool_nodes', params: [] },
          present: { kind: 'some-row', where: { node_id: String(index), status: 'up' } },
        },
        { note: 'the PCP password reaches pcp_attach_node through a temporary PCPPASSFILE, from stdin' },
      ),
    );
  } else {
    // The write-up's order: stop the standby manager, then the master; start the master, then the standby.
    const order = [...managers].reverse();
    order.forEach((m) =>
      steps.push(
        check(
          `pool-stop-${m.node}`,
          `stop ${mgr.kind} on ${m.node}`,
          `pool-${m.node}`,
          stopManager(m.configFile),
          2 * 60_000,
        ),
      ),
    );
    managers.forEach((m) =>
      steps.push(
        check(
          `pool-start-${m.node}`,
          `start ${mgr.kind} on ${m.node}`,
          `pool-${m.node}`,
          startManager(m.configFile),
          2 * 60_000,
        ),
      ),
    );
    steps.push(
      check(
        'pool-ready',
        `wait until ${managers[0]!.node}'s pool answers`,
        `pool-${managers[0]!.node}`,
        {
          kind: 'wait-until',
          probe: { kind: 'sql', sql: 'show pool_nodes', params: [] },
          until: { kind: 'row-count', min: 1 },
          intervalMs: 1000,
        },
        5 * 60_000,
      ),
    );
  }
  return { steps, expectedWeight: (1 / total).toFixed(6) };
}
