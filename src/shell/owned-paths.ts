/**
 * Proof of ownership for what a plan creates on a host, so that an undo deletes only what the run
 * itself made. Each builder returns the argv of a fixed `sh -c` script; every value reaches the
 * script as a positional argument, never spliced into its text (the quoting module quotes argv).
 *
 * A marker file, kept in kbops's work directory on the host (outside every data directory), holds
 * the plan's key and the `device:inode` of the directory the step made or claimed. An undo checks
 * both before it deletes anything; without that proof it refuses and changes nothing.
 */

/** Exit code by which these scripts say "refused: nothing was changed". */
export const REFUSED_EXIT = 86;

// Shared head: $1 marker, $2 path, $3 plan key. Reads the marker if there is one.
const HEAD =
  'm=$1; d=$2; id=$3; owner=; ino=; ' +
  'if [ -e "$m" ]; then owner=$(sed -n 1p "$m"); ino=$(sed -n 2p "$m"); fi; ' +
  'now=$(stat -c %d:%i -- "$d" 2>/dev/null); ';
const MARK =
  'mkdir -p -m 0700 -- "${m%/*}" || exit 70; ' +
  'printf "%s\\n%s\\n" "$id" "$(stat -c %d:%i -- "$d")" > "$m.tmp" && mv -f -- "$m.tmp" "$m" || exit 70; ';
const OURS = '[ -n "$owner" ] && [ "$owner" = "$id" ] && [ -n "$now" ] && [ "$now" = "$ino" ]';

const MAKE_DIR =
  HEAD +
  'mode=$4; shift 4; for p in "$@"; do mkdir -p -- "$p" || exit 70; done; ' +
  `if ${OURS}; then echo "kbops: $d was made by this plan already"; exit 0; fi; ` +
  'if [ -e "$m" ]; then echo "kbops: marker $m does not prove this plan made $d: nothing was changed" >&2; exit 86; fi; ' +
  'p=${d%/*}; [ -z "$p" ] || mkdir -p -- "$p" || exit 70; ' +
  'if ! mkdir -m "$mode" -- "$d" 2>/dev/null; then ' +
  '[ -e "$d" ] && { echo "kbops: $d already exists and was not made by this plan: nothing was changed" >&2; exit 86; }; ' +
  'mkdir -m "$mode" -- "$d"; exit 70; fi; ' +
  MARK;

/**
 * `mkdir` of `dir` (never `-p` on it: an existing directory is refused with REFUSED_EXIT), then a
 * marker with its inode. `parents` are made with `-p` first and never removed. Idempotent for the
 * same plan: a directory this plan made already is accepted.
 */
export function makeOwnedDir(
  marker: string,
  dir: string,
  planKey: string,
  mode = '0700',
  parents: readonly string[] = [],
): string[] {
  return ['sh', '-c', MAKE_DIR, 'sh', marker, dir, planKey, mode, ...parents];
}

const CLAIM_EMPTY =
  HEAD +
  'shift 3; ' +
  '[ -n "$now" ] && [ -d "$d" ] || { echo "kbops: $d is not a directory: nothing was changed" >&2; exit 86; }; ' +
  `if ${OURS}; then find "$d" -mindepth 1 -delete || exit 70; ` +
  'elif [ -e "$m" ]; then echo "kbops: marker $m does not prove this plan filled $d: nothing was changed" >&2; exit 86; ' +
  'elif [ -n "$(ls -A -- "$d")" ]; then echo "kbops: $d is not empty (files this plan did not make): nothing was changed" >&2; exit 86; ' +
  `else ${MARK}fi; ` +
  'exec "$@"';

/**
 * Runs argv to fill `dir`, which must exist and be empty (else REFUSED_EXIT, nothing changed); the
 * claim is marked before argv starts. A retry of the same plan empties what its earlier attempt left.
 */
export function fillOwnedDir(
  marker: string,
  dir: string,
  planKey: string,
  argv: readonly string[],
): string[] {
  if (argv.length === 0) throw new TypeError('fillOwnedDir: argv is empty');
  return ['sh', '-c', CLAIM_EMPTY, 'sh', marker, dir, planKey, ...argv];
}

const REMOVE =
  HEAD +
  'what=$4; ' +
  'if [ ! -e "$m" ]; then ' +
  'if [ -z "$now" ] || { [ "$what" = contents ] && [ -z "$(ls -A -- "$d" 2>/dev/null)" ]; }; then echo "kbops: nothing made by this plan at $d"; exit 0; fi; ' +
  'echo "kbops: $d was not made by this plan (no marker $m): left as it is" >&2; exit 86; fi; ' +
  '[ "$owner" = "$id" ] || { echo "kbops: marker $m belongs to another plan ($owner): $d left as it is" >&2; exit 86; }; ' +
  'if [ -z "$now" ]; then rm -f -- "$m"; echo "kbops: $d is gone already"; exit 0; fi; ' +
  '[ "$now" = "$ino" ] || { echo "kbops: $d is not the directory this plan made (it was replaced): left as it is" >&2; exit 86; }; ' +
  'if [ "$what" = contents ]; then find "$d" -mindepth 1 -delete || exit 70; else rm -rf -- "$d" || exit 70; fi; ' +
  'rm -f -- "$m"';

/** Undo of makeOwnedDir (`dir`) or fillOwnedDir (`contents`): only with the marker's proof. */
export function removeOwned(
  marker: string,
  dir: string,
  planKey: string,
  what: 'dir' | 'contents',
): string[] {
  return ['sh', '-c', REMOVE, 'sh', marker, dir, planKey, what];
}

const CLAIM_ABSENT =
  'm=$1; id=$2; n=$3; shift 3; i=0; owner=; ' +
  'if [ -e "$m" ]; then owner=$(sed -n 1p "$m"); fi; ' +
  'if [ "$owner" = "$id" ]; then shift "$n"; exec "$@"; fi; ' +
  'if [ -e "$m" ]; then echo "kbops: marker $m belongs to another plan ($owner): nothing was changed" >&2; exit 86; fi; ' +
  'for p in "$@"; do [ "$i" -lt "$n" ] || break; i=$((i + 1)); ' +
  '[ -e "$p" ] && { echo "kbops: $p already exists and was not made by this plan: nothing was changed" >&2; exit 86; }; done; ' +
  'mkdir -p -m 0700 -- "${m%/*}" || exit 70; printf "%s\\n" "$id" > "$m.tmp" && mv -f -- "$m.tmp" "$m" || exit 70; ' +
  'shift "$n"; exec "$@"';

/**
 * Runs argv to create `paths`, none of which may exist yet (else REFUSED_EXIT, nothing changed);
 * the claim is marked before argv starts, so an interrupted copy is still known to be this plan's.
 */
export function createClaimed(
  marker: string,
  planKey: string,
  paths: readonly string[],
  argv: readonly string[],
): string[] {
  if (paths.length === 0 || argv.length === 0)
    throw new TypeError('createClaimed: paths and argv are needed');
  return ['sh', '-c', CLAIM_ABSENT, 'sh', marker, planKey, String(paths.length), ...paths, ...argv];
}

const REMOVE_CLAIMED =
  'm=$1; id=$2; shift 2; owner=; ' +
  'if [ -e "$m" ]; then owner=$(sed -n 1p "$m"); fi; ' +
  'if [ ! -e "$m" ]; then for p in "$@"; do [ -e "$p" ] && { echo "kbops: $p was not made by this plan (no marker $m): left as it is" >&2; exit 86; }; done; ' +
  'echo "kbops: nothing made by this plan to remove"; exit 0; fi; ' +
  '[ "$owner" = "$id" ] || { echo "kbops: marker $m belongs to another plan ($owner): left as it is" >&2; exit 86; }; ' +
  'rm -rf -- "$@" || exit 70; rm -f -- "$m"';

/** Undo of createClaimed: removes the paths only if this plan's claim marker is there. */
export function removeClaimed(marker: string, planKey: string, paths: readonly string[]): string[] {
  if (paths.length === 0) throw new TypeError('removeClaimed: paths are needed');
  return ['sh', '-c', REMOVE_CLAIMED, 'sh', marker, planKey, ...paths];
}

const START_CLAIMED =
  'm=$1; id=$2; pidf=$3; shift 3; owner=; ' +
  'if [ -e "$m" ]; then owner=$(sed -n 1p "$m"); fi; ' +
  'if [ -z "$owner" ]; then ' +
  'pid=$(sed -n 1p "$pidf" 2>/dev/null); ' +
  'if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then echo "kbops: a server runs already in ${pidf%/*} (pid $pid): nothing was changed" >&2; exit 86; fi; ' +
  'mkdir -p -m 0700 -- "${m%/*}" && printf "%s\\n" "$id" > "$m.tmp" && mv -f -- "$m.tmp" "$m" || exit 70; ' +
  'elif [ "$owner" != "$id" ]; then echo "kbops: marker $m belongs to another plan ($owner): nothing was changed" >&2; exit 86; fi; ' +
  'exec "$@"';

/**
 * Runs argv to start a server whose pid file is `pidFile`; refused (REFUSED_EXIT) while a server
 * already runs there. The claim is marked before the start, so only a server this plan started is
 * ever stopped by its undo.
 */
export function startClaimed(
  marker: string,
  planKey: string,
  pidFile: string,
  argv: readonly string[],
): string[] {
  if (argv.length === 0) throw new TypeError('startClaimed: argv is empty');
  return ['sh', '-c', START_CLAIMED, 'sh', marker, planKey, pidFile, ...argv];
}

const STOP_CLAIMED =
  'm=$1; id=$2; pidf=$3; shift 3; owner=; running=; ' +
  'if [ -e "$m" ]; then owner=$(sed -n 1p "$m"); fi; ' +
  'pid=$(sed -n 1p "$pidf" 2>/dev/null); ' +
  'if [ -n "$pid" ] && [ -d "/proc/$pid" ]; then running=1; fi; ' +
  'if [ "$owner" != "$id" ]; then ' +
  'if [ -z "$running" ]; then echo "kbops: no server started by this plan runs"; exit 0; fi; ' +
  'echo "kbops: the server in ${pidf%/*} (pid $pid) was not started by this plan: left running" >&2; exit 86; fi; ' +
  'if [ -n "$running" ]; then "$@" || exit $?; fi; ' +
  'rm -f -- "$m"';

/** Undo of startClaimed: stops the server (argv) only if this plan's claim is there. */
export function stopClaimed(
  marker: string,
  planKey: string,
  pidFile: string,
  argv: readonly string[],
): string[] {
  if (argv.length === 0) throw new TypeError('stopClaimed: argv is empty');
  return ['sh', '-c', STOP_CLAIMED, 'sh', marker, planKey, pidFile, ...argv];
}
