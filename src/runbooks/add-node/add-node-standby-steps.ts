import { posix } from 'node:path';
import type { Step } from '../../core/plan';
import type { NodeFacts } from '../../cluster/cluster-facts';
import { tailLogsOnFailure } from '../../shell/shell-command';
import { change, confLines, editFile, exitZero, MINUTE, ssh } from '../../cluster/step-builders';
import { waitStreaming } from '../../cluster/streaming';
import { markerOf, PASSWORD_TOKEN, planKeyOf, type PlanContext } from './add-node-plan-context';
import { REFUSED_EXIT, startClaimed, stopClaimed } from '../../shell/owned-paths';

// The new node as a standby: its recovery settings, its own server settings, and its start.

export function standbyConfigSteps(ctx: PlanContext, primary: NodeFacts, slot: string): Step[] {
  const { dialect: d, snapshot: snap, params } = ctx;
  const N = snap.newHost;
  const p = snap.primary!;
  const secrets = [
    { token: PASSWORD_TOKEN, secret: 'db.password' as const, encoding: d.conninfoPasswordEncoding },
  ];
  const entries = d.standbyEntries({
    primaryHost: primary.host,
    primaryPort: primary.sqlPort,
    user: params.cluster.db.user,
    applicationName: N.name,
    slotName: slot,
    passwordToken: PASSWORD_TOKEN,
  });
  const inData = (f: string) => posix.join(N.dataDir, f);
  const steps: Step[] = [];
  if (d.caps.recoveryConf) {
    steps.push(
      editFile(
        'recovery-conf',
        `write ${d.files.recoveryConf} on ${N.name}`,
        N.name,
        { path: inData(d.files.recoveryConf), sha256: null },
        { type: 'replace', content: confLines(entries) },
        { mode: 0o600, secrets },
      ),
    );
  } else {
    steps.push(
      editFile(
        'standby-signal',
        `mark ${N.name} as a standby`,
        N.name,
        { path: inData(d.files.standbySignal), sha256: null },
        { type: 'replace', content: '' },
        { mode: 0o600 },
      ),
      editFile(
        'standby-conninfo',
        `point ${N.name} at ${primary.name}`,
        N.name,
        { path: inData(d.files.autoConf), sha256: p.autoConf.sha256 },
        { type: 'set-keys', entries },
        { mode: 0o600, secrets, note: "the file is a copy of the primary's, made by the base backup" },
      ),
    );
  }
  // Node-specific settings in the copied server configuration (and V8R3's master copy in db/etc).
  const keys: Record<string, string> = { port: String(N.sqlPort), hot_standby: 'on' };
  // A copied config that pins the primary's own address must pin the new node's instead.
  const listen = (p.listenAddresses ?? '')
    .replace(/^'|'$/g, '')
    .split(',')
    .map((a) => a.trim());
  if (listen.includes(primary.host)) {
    keys.listen_addresses = `'${listen.map((a) => (a === primary.host ? N.host : a)).join(',')}'`;
  }
  steps.push(
    editFile(
      'node-conf',
      `set ${N.name}'s own settings in ${d.files.serverConf}`,
      N.name,
      { path: inData(d.files.serverConf), sha256: p.serverConf.sha256 },
      { type: 'set-keys', entries: keys },
    ),
  );
  if (d.caps.etcConfigCopy && p.etcServerConf) {
    const etc = posix.join(params.clusterPath, 'db', 'etc', d.files.serverConf);
    steps.push(
      editFile(
        'etc-node-conf',
        `the same in db/etc/${d.files.serverConf}`,
        N.name,
        { path: etc, sha256: p.etcServerConf.sha256 },
        { type: 'set-keys', entries: keys },
      ),
    );
  }
  if (d.caps.recoveryDone) {
    const done = posix.join(params.clusterPath, 'db', 'etc', 'recovery.done');
    const before = d.caps.copyClusterFiles
      ? (p.etcRecoveryDone?.sha256 ?? null)
      : (N.recoveryDone?.sha256 ?? null);
    steps.push(
      editFile(
        'recovery-done',
        `write db/etc/recovery.done on ${N.name} (used at failover)`,
        N.name,
        { path: done, sha256: before },
        { type: 'replace', content: confLines(entries) },
        { mode: 0o600, secrets, note: 'a stale name or slot here breaks the node at its first failover' },
      ),
    );
  }
  return steps;
}

export function startSteps(
  ctx: PlanContext,
  primary: NodeFacts,
  tool: (n: { binDir: string }, name: string) => string,
): Step[] {
  const { dialect: d, snapshot: snap } = ctx;
  const N = snap.newHost;
  const log = N.logDirExists
    ? posix.join(N.clusterPath, 'log', `${N.name}-start.log`)
    : posix.join(N.dataDir, 'startup.log');
  const ctl = tool(N, d.tools.ctl);
  const marker = markerOf(ctx, N, 'start');
  const key = planKeyOf(ctx);
  const pidFile = posix.join(N.dataDir, d.files.pidFile);
  return [
    change(
      'start',
      `start ${N.name}`,
      N.name,
      // Without -l the server keeps the SSH session's output open and the command never returns.
      ssh(
        startClaimed(
          marker,
          key,
          pidFile,
          // If it does not start, the end of its logs goes into the journal: a rollback removes them.
          tailLogsOnFailure(
            [log, ...['sys_log', 'log', 'pg_log'].map((d) => posix.join(N.dataDir, d))],
            [ctl, 'start', '-w', '-t', '300', '-D', N.dataDir, '-l', log],
          ),
        ),
        { refusedExitCodes: [REFUSED_EXIT] },
      ),
      [
        ssh(
          stopClaimed(marker, key, pidFile, [ctl, 'stop', '-w', '-t', '120', '-m', 'fast', '-D', N.dataDir]),
        ),
      ],
      { probe: { kind: 'ssh', argv: [ctl, 'status', '-D', N.dataDir] }, present: exitZero },
      {
        timeoutMs: 6 * MINUTE,
        note: 'refused if a server already runs there; its undo stops only the server this run started',
      },
    ),
    waitStreaming('wait-streaming', primary.name, N.name, d, 15 * MINUTE),
  ];
}
