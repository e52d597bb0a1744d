import type { Failure } from '../core/run';
import type { RemoteShell, RemoteStart } from '../ports/remote-shell';
import { cmd, reapGroup } from '../shell/shell-command';

// Makes sure a remote command recorded in the journal (its process group and the nonce its wrapper put
// in the environment) is gone before anything else touches its node: after a crash, on resume or
// rollback. The group is killed only if a live process in it still carries the nonce, so a process
// group id the host has since given to someone else is never touched.

export type ReapResult =
  { readonly gone: true; readonly killed: boolean } | { readonly gone: false; readonly failure: Failure };

const REAP_TIMEOUT_MS = 30_000;

/**
 * Kills the group if it is still ours and checks it is gone. A refusal or a group that will not die is a
 * failure value; a connection that cannot run the check is an error (thrown), like any SSH fault.
 */
export async function reapRemote(
  shell: RemoteShell,
  group: RemoteStart,
  signal?: AbortSignal,
): Promise<ReapResult> {
  let argv: string[];
  try {
    argv = reapGroup(group.pgid, group.nonce);
  } catch (err) {
    return {
      gone: false,
      failure: {
        code: 'reap-invalid',
        message: `cannot check remote process group ${String(group.pgid)} on ${shell.host}: ${(err as Error).message}`,
        hint: 'the journal entry is damaged: look for the command on the host by hand',
      },
    };
  }
  const r = await shell.exec(cmd(...(argv as [string, ...string[]])), {
    timeoutMs: REAP_TIMEOUT_MS,
    ...(signal && { signal }),
  });
  const lines = r.stdout.trim().split('\n');
  if (r.exitCode === 0 && lines.at(-1) === 'gone') return { gone: true, killed: lines[0] === 'killed' };
  const alive = lines
    .find((l) => l.startsWith('alive '))
    ?.slice('alive '.length)
    .trim();
  return {
    gone: false,
    failure: {
      code: 'remote-still-running',
      message:
        alive !== undefined
          ? `process group ${group.pgid} on ${shell.host} is still running after SIGKILL (pids ${alive})`
          : `could not check process group ${group.pgid} on ${shell.host} (exit ${String(r.exitCode)}: ${r.stderr.trim().split('\n').pop() ?? ''})`,
      hint: `look at it on the host (ps -o pid,stat,args -g ${group.pgid}); a process stuck in disk wait (D) ends only when its I/O does`,
    },
  };
}
