import { fail, pass, warn, type Check } from '../core/check';
import type { ManagerFacts } from './cluster-facts';

// Checks any runbook makes of the cluster it is about to change, each a named pass / warn / fail
// with a hint. Pure: functions of what a reading found, so every scenario is a unit test.

interface NodeAnswer {
  readonly name: string;
  readonly host: string;
  /** null: it did not answer. */
  readonly inRecovery: boolean | null;
  readonly error?: string;
}

/** Every data node answers SQL. */
export function nodesAnswerCheck(nodes: readonly NodeAnswer[], hint = 'bring every node up first'): Check {
  const silent = nodes.filter((n) => n.inRecovery === null);
  return silent.length === 0
    ? pass('nodes-answer', `all ${nodes.length} nodes answer SQL`)
    : fail(
        'nodes-answer',
        silent.map((n) => `${n.name} (${n.host}) does not answer: ${n.error ?? 'no reply'}`).join('; '),
        hint,
      );
}

/** Exactly one node is out of recovery. */
export function onePrimaryCheck(
  nodes: readonly NodeAnswer[],
  hint = 'the cluster must have exactly one primary: fix it first',
): Check {
  const primaries = nodes.filter((n) => n.inRecovery === false);
  return primaries.length === 1
    ? pass('one-primary', `${primaries[0]!.name} is the primary`)
    : fail(
        'one-primary',
        `${primaries.length} nodes are primaries (${primaries.map((n) => n.name).join(', ') || 'none'})`,
        hint,
      );
}

/**
 * Every standby streams from the primary, told apart by application_name. With one primary, every
 * other node is meant to be its standby, answering or not.
 */
export function standbysStreamingCheck(
  nodes: readonly NodeAnswer[],
  replication: readonly { readonly applicationName: string; readonly state: string }[] | undefined,
): Check {
  const primaries = nodes.filter((n) => n.inRecovery === false);
  const standbys =
    primaries.length === 1
      ? nodes.filter((n) => n !== primaries[0])
      : nodes.filter((n) => n.inRecovery === true);
  const notStreaming = standbys.filter(
    (n) => replication?.find((r) => r.applicationName === n.name)?.state !== 'streaming',
  );
  return notStreaming.length === 0
    ? pass('standbys-streaming', `${standbys.map((n) => n.name).join(', ') || 'no standby'} streaming`)
    : fail(
        'standbys-streaming',
        `${notStreaming.map((n) => n.name).join(', ')} not streaming from the primary`,
        'repair replication first (check the standby log and its slot)',
      );
}

/** One check per cluster manager (`pool-<node>`): it answers and every backend it is configured with is up. */
export function poolChecks(
  managers: readonly ManagerFacts[],
  downHint = 'bring it back (pcp_attach_node) first',
): Check[] {
  return managers.map((m) => {
    const name = `pool-${m.node}`;
    if (m.error || m.poolNodes === null)
      return fail(
        name,
        m.error ?? `the pool on ${m.host}:${m.sqlPort} did not answer`,
        'start the cluster manager, then plan again',
      );
    const configured = new Set(m.backends.map((b) => b.index));
    const down = m.poolNodes.filter(
      (p) => configured.has(p.nodeId) && p.status !== 'up' && p.status !== 'waiting',
    );
    const stale = m.poolNodes.filter((p) => !configured.has(p.nodeId));
    if (down.length > 0)
      return fail(
        name,
        down.map((p) => `node ${p.nodeId} (${p.hostname}) is ${p.status}`).join('; '),
        downHint,
      );
    if (stale.length > 0)
      return warn(
        name,
        `pool lists ${stale.map((p) => `node ${p.nodeId} (${p.hostname})`).join(', ')} that its config no longer has`,
        'left from an earlier rollback; a restart of the manager clears it',
      );
    return pass(name, `${m.poolNodes.length} pool nodes up on ${m.host}:${m.sqlPort}`);
  });
}

/** A host kbops tried to log in to over SSH, and how that went. */
export interface SshLogin {
  readonly host: string;
  readonly sshPort: number;
  readonly reachable: boolean;
  readonly sshError?: string;
  /** Why SSH failed, when the SSH adapter could tell (to give the right hint). */
  readonly sshErrorCode?: string;
}

function sshHint(n: SshLogin, user: string, portOption: string): string {
  switch (n.sshErrorCode) {
    case 'unreachable':
    case 'timeout':
      return `start sshd on ${n.host}, or check the address and ${portOption} (now ${n.sshPort})`;
    case 'host-key-mismatch':
      // Never advise re-pinning blindly: the other key may be an interceptor's.
      return `verify ${n.host}'s host key out of band (console, its admin) before changing known_hosts`;
    case 'auth-failed':
      return `authorise kbops's public key for ${user} on ${n.host} (~${user}/.ssh/authorized_keys)`;
    default:
      return `pin the host key of ${n.host} in the cluster's known_hosts and authorise kbops's key for ${user}`;
  }
}

/**
 * kbops logged in to a host as the cluster's OS user with its pinned host key. `portOption` names
 * how the person sets the port (add-node: `--ssh-port`).
 */
export function sshLoginCheck(name: string, n: SshLogin, user: string, portOption = 'the SSH port'): Check {
  return n.reachable
    ? pass(name, `logged in to ${n.host} as ${user} with its pinned host key`)
    : fail(
        name,
        `cannot log in to ${n.host}:${n.sshPort}: ${n.sshError ?? 'no reason given'}`,
        sshHint(n, user, portOption),
      );
}
