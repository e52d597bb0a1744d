import { posix } from 'node:path';
import type { Step } from '../../core/plan';
import type { NodeFacts } from '../../cluster/cluster-facts';
import { change, editFile, exitZero, MINUTE, ssh } from '../../cluster/step-builders';
import { markerOf, planKeyOf, type PlanContext } from './add-node-plan-context';
import {
  createClaimed,
  makeOwnedDir,
  REFUSED_EXIT,
  removeClaimed,
  removeOwned,
} from '../../shell/owned-paths';

// V8R3's cluster software and settings copied from the primary, and HAmodule.conf membership.

/** What the copy step copies from the primary's cluster path (never kingbasecluster/). */
export const CLUSTER_SOFTWARE_DIRS = ['db/bin', 'db/etc', 'db/lib', 'db/share'] as const;

/** Everything the copy steps make under the new node's cluster path (their undos remove it). */
export const COPIED_PATHS = [...CLUSTER_SOFTWARE_DIRS, 'template.bk', 'archivedir'] as const;

export function copyClusterFileSteps(ctx: PlanContext, primary: NodeFacts): Step[] {
  const { params, snapshot: snap } = ctx;
  const N = snap.newHost;
  const name = N.name;
  const key = planKeyOf(ctx);
  // scp runs on the new host and logs in to the primary as the OS user (not the database user).
  const from = (p: string) =>
    `${params.cluster.ssh.user}@${primary.host}:${posix.join(primary.clusterPath, p)}`;
  const to = (p: string) => posix.join(params.clusterPath, p);
  const scp = (sources: string[], dest: string) => ['scp', '-rpq', '-o', 'BatchMode=yes', ...sources, dest];
  const dirs = [...CLUSTER_SOFTWARE_DIRS];
  const refused = { refusedExitCodes: [REFUSED_EXIT] };
  const archive = markerOf(ctx, N, 'archivedir');
  const copied = markerOf(ctx, N, 'copy-cluster-files');
  const template = markerOf(ctx, N, 'copy-template');
  return [
    change(
      'archivedir',
      'create an empty archive directory (and db/, which the copy fills)',
      name,
      ssh(makeOwnedDir(archive, to('archivedir'), key, '0700', [to('db')]), refused),
      [ssh(removeOwned(archive, to('archivedir'), key, 'dir'))],
      { probe: { kind: 'ssh', argv: ['test', '-d', to('archivedir')] }, present: exitZero },
    ),
    change(
      'copy-cluster-files',
      `copy the cluster software and settings from ${primary.name} (never kingbasecluster/)`,
      name,
      ssh(createClaimed(copied, key, dirs.map(to), scp(dirs.map(from), to('db'))), refused),
      [ssh(removeClaimed(copied, key, dirs.map(to)))],
      { probe: { kind: 'ssh', argv: ['test', '-d', to('db/bin')] }, present: exitZero },
      {
        timeoutMs: 10 * MINUTE,
        note: 'refused if any of them exists; needs SSH trust from the new host to the primary for the OS user, as the write-up sets up',
      },
    ),
    change(
      'copy-template',
      `copy template.bk from ${primary.name} (kingbase.conf's control_file_copy)`,
      name,
      ssh(
        createClaimed(template, key, [to('template.bk')], scp([from('template.bk')], to('template.bk'))),
        refused,
      ),
      [ssh(removeClaimed(template, key, [to('template.bk')]))],
      { probe: { kind: 'ssh', argv: ['test', '-f', to('template.bk')] }, present: exitZero },
    ),
  ];
}

export function haModuleSteps(ctx: PlanContext, primary: NodeFacts): Step[] {
  const { snapshot: snap } = ctx;
  const N = snap.newHost;
  const add = { type: 'shell-array-add' as const, name: 'KB_ALL_IP', values: [N.host] };
  const steps: Step[] = [];
  for (const node of snap.nodes) {
    if (node.haModule && !node.haModule.allIps.includes(N.host)) {
      steps.push(
        editFile(
          `ha-${node.name}`,
          `add ${N.host} to KB_ALL_IP on ${node.name}`,
          node.name,
          node.haModule,
          add,
        ),
      );
    }
    if (node.managerHaModule && !node.managerHaModule.allIps.includes(N.host)) {
      steps.push(
        editFile(
          `ha-manager-${node.name}`,
          `the same in ${node.name}'s kingbasecluster copy`,
          node.name,
          node.managerHaModule,
          add,
        ),
      );
    }
  }
  // The new node's own copy: the one the base software brought, or the primary's after the copy step.
  const own =
    ctx.dialect.caps.copyClusterFiles && primary.haModule
      ? {
          ...primary.haModule,
          path: posix.join(ctx.params.clusterPath, 'db', 'etc', posix.basename(primary.haModule.path)),
        }
      : N.haModule;
  if (own) {
    steps.push(
      editFile(
        `ha-${N.name}`,
        `add ${N.host} to KB_ALL_IP and set KB_LOCALHOST_IP on ${N.name}`,
        N.name,
        own,
        {
          type: 'edits',
          edits: [add, { type: 'shell-var-set', name: 'KB_LOCALHOST_IP', value: N.host }],
        },
      ),
    );
  }
  return steps;
}
