import { posix } from 'node:path';
import { kbopsDirOf } from '../../cluster/node-paths';
import { change, exitZero, MINUTE, repeatable, ssh } from '../../cluster/step-builders';
import type { Step } from '../../core/plan';
import { keepFiles, putBackFiles, thenMark } from '../../shell/server-control';
import { stdinSecretToEnv } from '../../shell/shell-command';
import type { FailoverNode } from './failover-facts';
import { planKeyOf, type PlanContext } from './failover-plan-context';

// A stopped node that diverged from the new primary (it wrote WAL the new primary never had) is
// rewound: pg_rewind / sys_rewind replaces what diverged with the new primary's pages. Its own
// configuration is kept aside first and put back after, because the rewind copies the source's.

export function rewindSteps(ctx: PlanContext, N: FailoverNode, X: FailoverNode): Step[] {
  const d = ctx.dialect;
  const c = ctx.params.cluster;
  const keepDir = posix.join(kbopsDirOf(X), `${planKeyOf(ctx)}-conf-${X.name}`);
  const files = [
    d.files.serverConf,
    d.files.hbaConf,
    d.files.autoConf,
    ...(d.caps.recoveryConf ? [d.files.recoveryConf] : [d.files.standbySignal]),
  ];
  const marker = posix.join(kbopsDirOf(X), `${planKeyOf(ctx)}-rewind-${X.name}.made`);
  const source = `host=${N.host} port=${N.sqlPort} user=${c.db.user} dbname=${c.db.database}`;
  return [
    repeatable(
      `keep-conf-${X.name}`,
      `keep ${X.name}'s own configuration files aside`,
      X.name,
      ssh(keepFiles(X.dataDir, keepDir, files)),
      { note: `kept once in ${keepDir}: a repeat keeps the first copies` },
    ),
    change(
      `rewind-${X.name}`,
      `rewind ${X.name} onto ${N.name}'s timeline (${d.tools.rewind})`,
      X.name,
      ssh(
        stdinSecretToEnv(
          d.passwordEnv,
          thenMark(marker, [
            posix.join(X.binDir, d.tools.rewind),
            '-D',
            X.dataDir,
            `--source-server=${source}`,
          ]),
        ),
        { stdinSecret: 'db.password' },
      ),
      [],
      // A rewound data directory carries a backup_label until its server starts.
      {
        probe: { kind: 'ssh', argv: ['test', '-f', posix.join(X.dataDir, 'backup_label')] },
        present: exitZero,
      },
      {
        timeoutMs: 60 * MINUTE,
        note: `cannot be undone: the WAL ${X.name} wrote after the two diverged is replaced by ${N.name}'s; the password reaches the tool through its environment, from stdin`,
      },
    ),
    repeatable(
      `put-back-conf-${X.name}`,
      `put ${X.name}'s own configuration files back`,
      X.name,
      ssh(putBackFiles(X.dataDir, keepDir, files)),
      { note: `the rewind copied ${N.name}'s` },
    ),
  ];
}
