// Starting a server again in an undo: only when it is not running already (a person, or the
// cluster's own scripts, may have started it since), so the undo is safe to repeat after a crash.

const START_UNLESS_RUNNING =
  'ctl=$1; d=$2; l=$3; ' +
  'if "$ctl" status -D "$d" >/dev/null 2>&1; then echo "kbops: the server in $d runs already: left as it is"; exit 0; fi; ' +
  'exec "$ctl" start -w -t 300 -D "$d" -l "$l"';

/** `sh -c '…'`: `<ctl> start -w -D <dir> -l <log>` unless `<ctl> status -D <dir>` says it runs. */
export function startUnlessRunning(ctl: string, dataDir: string, log: string): string[] {
  return ['sh', '-c', START_UNLESS_RUNNING, 'sh', ctl, dataDir, log];
}

// pcp_attach_node returns before pgpool acts on it, and pgpool drops a request it gets while busy
// (a failback in progress): attach, then watch pcp_node_info's status code (field 3: 1 waiting,
// 2 up, in pgpool 3.x and 4.x alike), and attach again if the backend is still not up.
const ATTACH_UNTIL_UP =
  'a=$1; i=$2; h=$3; p=$4; u=$5; n=$6; t=0; ' +
  'while [ $t -lt 5 ]; do "$a" -h "$h" -p "$p" -U "$u" -w -n "$n" >/dev/null || exit $?; k=0; ' +
  'while [ $k -lt 10 ]; do s=$("$i" -h "$h" -p "$p" -U "$u" -w -n "$n" | awk \'{print $3}\'); ' +
  'case "$s" in 1|2) echo "kbops: backend $n is up"; exit 0;; esac; sleep 1; k=$((k + 1)); done; t=$((t + 1)); done; ' +
  'echo "kbops: backend $n is still not up after 5 attaches" >&2; exit 1';

/** `sh -c '…'`: pcp_attach_node until pcp_node_info shows the backend up (at most 5 attaches, ~50 s). */
export function attachUntilUp(
  tools: { attach: string; info: string },
  pcp: { host: string; port: number; user: string },
  index: number,
): string[] {
  return [
    'sh',
    '-c',
    ATTACH_UNTIL_UP,
    'sh',
    tools.attach,
    tools.info,
    pcp.host,
    String(pcp.port),
    pcp.user,
    String(index),
  ];
}

// What a pgpool-II / kingbasecluster log says about failovers, without its noise (every child logs
// "failover or failback event detected", which would push the main process's lines out).
const FAILOVER_LINES =
  'grep -E \'failover|failback|find_primary_node|degenerat|execute command|promot\' "$1" | ' +
  "grep -v 'event detected' | tail -n 8";

/** `sh -c '…'`: the last failover-related lines of a cluster manager's log. */
export const failoverLogLines = (logFile: string): string[] => ['sh', '-c', FAILOVER_LINES, 'sh', logFile];

// pg_rewind copies the source's configuration over the target's (its listen_addresses, its
// conninfo) and removes files only the target had (standby.signal). Before a rewind the node's own
// files are kept aside, once (a repeat must not keep the rewound copies), and put back after it;
// a file that was absent is recorded so, and removed again if the rewind brought one in.
const KEEP_FILES =
  'd=$1; k=$2; shift 2; mkdir -p -m 0700 -- "$k" || exit 70; for n in "$@"; do ' +
  '[ -e "$k/$n" ] || [ -e "$k/$n.absent" ] && continue; ' +
  'if [ -e "$d/$n" ]; then cp -p -- "$d/$n" "$k/$n" || exit 70; else : > "$k/$n.absent" || exit 70; fi; done';

const PUT_BACK_FILES =
  'd=$1; k=$2; shift 2; for n in "$@"; do ' +
  'if [ -e "$k/$n" ]; then cp -p -- "$k/$n" "$d/$n" || exit 70; ' +
  'elif [ -e "$k/$n.absent" ]; then rm -f -- "$d/$n" || exit 70; ' +
  'else echo "kbops: no kept copy of $n in $k" >&2; exit 70; fi; done';

/** `sh -c '…'`: copies `names` of `dataDir` into `keepDir` (once), recording the absent ones. */
export const keepFiles = (dataDir: string, keepDir: string, names: readonly string[]): string[] => [
  'sh',
  '-c',
  KEEP_FILES,
  'sh',
  dataDir,
  keepDir,
  ...names,
];

/** `sh -c '…'`: puts the files `keepFiles` kept back into `dataDir` (and removes the ones that were absent). */
export const putBackFiles = (dataDir: string, keepDir: string, names: readonly string[]): string[] => [
  'sh',
  '-c',
  PUT_BACK_FILES,
  'sh',
  dataDir,
  keepDir,
  ...names,
];

// A rewound data directory shows nothing lasting of the rewind (its backup_label goes at the first
// start): the command leaves a marker of its own when it succeeds, for a resume to read.
const THEN_MARK = 'm=$1; shift; "$@" || exit $?; mkdir -p -m 0700 -- "${m%/*}" && : > "$m"';

/** `sh -c '…'`: argv, then (only if it succeeded) an empty marker file at `marker`. */
export const thenMark = (marker: string, argv: readonly string[]): string[] => [
  'sh',
  '-c',
  THEN_MARK,
  'sh',
  marker,
  ...argv,
];
