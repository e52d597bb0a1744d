/**
 * The one module that builds remote shell text. Everything else composes `ShellCommand` values; nothing
 * else may concatenate shell strings.
 *
 * Every argument, path and env value is single-quoted, so it reaches the remote program as exactly one
 * argv entry whatever it contains. The only unquoted text is the fixed operators below and the audited
 * `"$$"` in `withPidReport`.
 *
 * Command text is logged, shown in Slack and visible in the remote `ps`: secrets must never be put in it.
 * Pass them on stdin (`ExecOptions.stdin`) or in files.
 *
 * The text targets a POSIX shell (sh, dash, bash, ksh, zsh) as the remote login shell.
 */

const TOKEN: unique symbol = Symbol('ShellCommand');

/** How a command composes; decides when an operand needs `{ ...; }` around it to keep its meaning. */
type Kind = 'simple' | 'compound' | 'pipeline' | 'negated' | 'and' | 'or' | 'list';

export class ShellCommand {
  readonly text: string;
  /** @internal */
  readonly kind: Kind;

  /** Only this module holds the token, so a ShellCommand is proof its text was built here. */
  constructor(token: typeof TOKEN, text: string, kind: Kind) {
    if (token !== TOKEN) throw new TypeError('ShellCommand can only be built by src/shell/shell-command');
    this.text = text;
    this.kind = kind;
    Object.freeze(this);
  }
}

const make = (text: string, kind: Kind): ShellCommand => new ShellCommand(TOKEN, text, kind);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// A lone surrogate would be silently replaced by U+FFFD on the way out, changing the argument.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** POSIX single-quoting: the result is always exactly one shell word with the same bytes. */
export function quote(arg: string): string {
  if (typeof arg !== 'string') throw new TypeError(`shell argument must be a string, got ${typeof arg}`);
  if (arg.includes('\0')) throw new TypeError('shell arguments cannot contain NUL bytes');
  if (LONE_SURROGATE.test(arg)) throw new TypeError('shell arguments must be well-formed Unicode');
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function isShellCommand(value: unknown): value is ShellCommand {
  return value instanceof ShellCommand;
}

// Runtime check too: a `{ text } as ShellCommand` cast must not smuggle raw text in.
function checked(cmds: readonly ShellCommand[], what: string, min = 1): readonly ShellCommand[] {
  if (cmds.length < min) throw new TypeError(`${what} needs at least ${min} command(s)`);
  for (const c of cmds) {
    if (!isShellCommand(c)) throw new TypeError(`${what}: operands must be built by shell-command`);
  }
  return cmds;
}

const grouped = (c: ShellCommand): string => `{ ${c.text}; }`;

/** `program arg...` with every word quoted; arguments stay arguments even when they start with `-`. */
export function cmd(program: string, ...args: string[]): ShellCommand {
  if (program === '') throw new TypeError('cmd: program must not be empty');
  return make([program, ...args].map(quote).join(' '), 'simple');
}

function andOr(op: '&&' | '||', kind: 'and' | 'or', cmds: readonly ShellCommand[]): ShellCommand {
  checked(cmds, kind);
  if (cmds.length === 1) return cmds[0] as ShellCommand;
  // && and || share one precedence, so only the same operator may be flattened.
  const parts = cmds.map((c) =>
    c.kind === 'simple' ||
    c.kind === 'compound' ||
    c.kind === 'pipeline' ||
    c.kind === 'negated' ||
    c.kind === kind
      ? c.text
      : grouped(c),
  );
  return make(parts.join(` ${op} `), kind);
}

/** `a && b && c`: each runs only if the previous succeeded. */
export function and(...cmds: ShellCommand[]): ShellCommand {
  return andOr('&&', 'and', cmds);
}

/** `a || b || c`: each runs only if the previous failed. */
export function or(...cmds: ShellCommand[]): ShellCommand {
  return andOr('||', 'or', cmds);
}

/** `a; b; c`: all run; the status is the last one's. */
export function seq(...cmds: ShellCommand[]): ShellCommand {
  checked(cmds, 'seq');
  if (cmds.length === 1) return cmds[0] as ShellCommand;
  return make(cmds.map((c) => c.text).join('; '), 'list');
}

/** `a | b | c`. */
export function pipe(...cmds: ShellCommand[]): ShellCommand {
  checked(cmds, 'pipe');
  if (cmds.length === 1) return cmds[0] as ShellCommand;
  const parts = cmds.map((c) =>
    c.kind === 'simple' || c.kind === 'compound' || c.kind === 'pipeline' ? c.text : grouped(c),
  );
  return make(parts.join(' | '), 'pipeline');
}

/** `! c`: succeeds when c fails. */
export function not(c: ShellCommand): ShellCommand {
  checked([c], 'not');
  const body = c.kind === 'simple' || c.kind === 'compound' || c.kind === 'pipeline' ? c.text : grouped(c);
  return make(`! ${body}`, 'negated');
}

/** `( c )`: runs in a subshell, so `cd`, `exit` and variable changes stay inside. */
export function subshell(c: ShellCommand): ShellCommand {
  checked([c], 'subshell');
  return make(`( ${c.text} )`, 'compound');
}

/** `( umask 077; c )`: files c creates are private (0600, directories 0700) from their first byte. */
export function privately(c: ShellCommand): ShellCommand {
  checked([c], 'privately');
  return make(`( umask 077; ${c.text} )`, 'compound');
}

/** `if test; then then; [else otherwise;] fi`. */
export function ifThen(test: ShellCommand, then: ShellCommand, otherwise?: ShellCommand): ShellCommand {
  checked(otherwise === undefined ? [test, then] : [test, then, otherwise], 'ifThen');
  const elsePart = otherwise === undefined ? '' : ` else ${otherwise.text};`;
  return make(`if ${test.text}; then ${then.text};${elsePart} fi`, 'compound');
}

export interface Redirections {
  /** Where stdout goes (truncating unless `append`). */
  readonly stdout?: string;
  /** A path, or `'&1'` to merge into stdout. To name a file literally `&1`, write `./&1`. */
  readonly stderr?: string;
  readonly append?: boolean;
  readonly stdin?: string;
}

/** `c < in > out 2> err`; stdout is redirected before `2>&1` so merged stderr follows it. */
export function redirect(c: ShellCommand, to: Redirections): ShellCommand {
  checked([c], 'redirect');
  const parts: string[] = [];
  const gt = to.append ? '>>' : '>';
  if (to.stdin !== undefined) parts.push(`< ${quote(nonEmpty(to.stdin, 'stdin'))}`);
  if (to.stdout !== undefined) parts.push(`${gt} ${quote(nonEmpty(to.stdout, 'stdout'))}`);
  if (to.stderr === '&1') parts.push('2>&1');
  else if (to.stderr !== undefined) parts.push(`2${gt} ${quote(nonEmpty(to.stderr, 'stderr'))}`);
  if (parts.length === 0) throw new TypeError('redirect: give at least one of stdin, stdout, stderr');
  const simple = c.kind === 'simple';
  const base = simple || c.kind === 'compound' ? c.text : grouped(c);
  return make(`${base} ${parts.join(' ')}`, simple ? 'simple' : 'compound');
}

/** `NAME='value' c` for a simple command; `( export NAME='value'; c )` otherwise. */
export function withEnv(env: Readonly<Record<string, string>>, c: ShellCommand): ShellCommand {
  checked([c], 'withEnv');
  const entries = Object.entries(env);
  if (entries.length === 0) return c;
  const assignments = entries
    .map(([name, value]) => {
      if (!ENV_NAME.test(name))
        throw new TypeError(`withEnv: invalid environment variable name ${JSON.stringify(name)}`);
      return `${name}=${quote(value)}`;
    })
    .join(' ');
  if (c.kind === 'simple') return make(`${assignments} ${c.text}`, 'simple');
  return make(`( export ${assignments}; ${c.text} )`, 'compound');
}

/** `( cd 'dir' && c )`: the subshell keeps the directory change from leaking into what follows. */
export function inDir(dir: string, c: ShellCommand): ShellCommand {
  nonEmpty(dir, 'inDir');
  // A leading `./` stops `cd` reading `-x` as an option and stops CDPATH redirecting a relative path.
  const safe = dir.startsWith('/') || dir.startsWith('.') ? dir : `./${dir}`;
  return subshell(and(cmd('cd', safe), c));
}

/** Lines of a script, joined by newlines. */
export function script(lines: readonly ShellCommand[]): ShellCommand {
  checked(lines, 'script');
  if (lines.length === 1) return lines[0] as ShellCommand;
  return make(lines.map((c) => c.text).join('\n'), 'list');
}

// Runs as `sh -c WRAPPER sh <command text>` in the login shell's process (so its PID stays the
// group id): a watchdog polls the shell's parent (the sshd session) every second, and when the
// session goes away (the shell is reparented) it kills the whole group, so nothing outlives its SSH
// session. The command runs in a subshell so an `exit` in it cannot skip stopping the watchdog. A
// command that died of a signal (a broken pipe when sshd died) may end before the watchdog saw the
// session go: the shell looks once more, a second later, and kills what the command left behind.
const WRAPPER =
  'p=$PPID; gone() { IFS= read -r st < /proc/$$/stat || return 1; st=${st##*) }; set -- $st; [ "$2" != "$p" ]; }; ' +
  '( trap \'kill "$s" 2>/dev/null; exit 0\' TERM; while :; do sleep 1 & s=$!; wait "$s"; ' +
  '[ -r /proc/$$/stat ] || exit 0; gone || continue; kill -s KILL -- -$$ || kill -s KILL $$; exit 0; done ' +
  ') </dev/null >/dev/null 2>&1 & w=$!; ( eval "$1" ); rc=$?; kill "$w" 2>/dev/null; ' +
  'if [ "$rc" -gt 128 ]; then sleep 1; gone && kill -s KILL -- -$$; fi; exit $rc';

/**
 * The text every remote command runs as. It first prints `<marker><PID>` on stderr: an SSH server makes
 * each session's shell a session (so process-group) leader, so the caller can kill the whole group.
 * Then it re-execs itself (same PID) with `LC_ALL=C`, so no parser depends on the host's language, and
 * `KBOPS_EXEC=<nonce>` in the environment of every process of the group, so a later reaper can tell the
 * group is still ours (a recycled PID never is), under the session watchdog above.
 * `"$$"` is the one audited piece of unquoted expansion in this module.
 */
export function wrapRemote(marker: string, nonce: string, c: ShellCommand): ShellCommand {
  checked([c], 'wrapRemote');
  if (!/^[A-Za-z0-9_.:-]+$/.test(marker)) throw new TypeError('wrapRemote: marker must be a plain token');
  if (!NONCE.test(nonce)) throw new TypeError('wrapRemote: nonce must be 8-64 hex digits');
  const report = make(`${cmd('printf', '%s%s\\n', marker).text} "$$" >&2`, 'simple');
  const env = cmd('env', 'LC_ALL=C', `KBOPS_EXEC=${nonce}`, 'sh', '-c', WRAPPER, 'sh', c.text);
  return seq(report, make(`exec ${env.text}`, 'simple'));
}

const NONCE = /^[0-9a-f]{8,64}$/;

// Lists the live (not zombie) processes of group $g whose environment holds KBOPS_EXEC=$n; kills the
// group only if there is one, then waits up to 5 s for them to go. Prints `killed`/`absent`, then
// `gone` (exit 0) or `alive <pids>` (exit 3).
const REAP =
  'g=$1; n=$2; ours() { for d in /proc/[0-9]*; do IFS= read -r st < "$d/stat" || continue; ' +
  'st=${st##*) }; set -- $st; [ "$3" = "$g" ] && [ "$1" != Z ] || continue; ' +
  'tr "\\0" "\\n" < "$d/environ" | grep -qxF "KBOPS_EXEC=$n" && printf "%s " "${d#/proc/}"; ' +
  'done 2>/dev/null; }; left=$(ours); if [ -n "$left" ]; then kill -s KILL -- "-$g" 2>/dev/null; ' +
  'echo killed; else echo absent; fi; i=0; while [ -n "$left" ] && [ "$i" -lt 10 ]; do ' +
  'sleep 0.5 2>/dev/null || sleep 1; left=$(ours); i=$((i + 1)); done; ' +
  'if [ -n "$left" ]; then echo "alive $left"; exit 3; fi; echo gone';

/**
 * `sh -c '…'` that kills process group `pgid` on this host only if it still holds a process started by
 * the exec tagged `nonce` (see wrapRemote), then checks that none of them is left.
 */
export function reapGroup(pgid: number, nonce: string): string[] {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new TypeError('reapGroup: pgid must be an integer > 1');
  if (!NONCE.test(nonce)) throw new TypeError('reapGroup: nonce must be 8-64 hex digits');
  return ['sh', '-c', REAP, 'sh', String(pgid), nonce];
}

/** The command as humans should see it (the same text that runs; it never holds secrets). */
export function toDisplay(c: ShellCommand): string {
  checked([c], 'toDisplay');
  return c.text;
}

function nonEmpty(value: string, what: string): string {
  if (value === '') throw new TypeError(`${what}: path must not be empty`);
  return value;
}

// Argv prefixes that take a secret from stdin, so it is never in command text, argv or a log.
// The scripts are fixed text; everything variable reaches them as positional parameters.

const STDIN_TO_ENV =
  'IFS= read -r kbops_secret || exit 70; for v in $KBOPS_SECRET_VARS; do export "$v=$kbops_secret"; done; unset kbops_secret KBOPS_SECRET_VARS; exec "$@"';

/**
 * `sh -c '…' sh argv…` with the first stdin line exported as each of `envNames` (e.g. PGPASSWORD)
 * for argv only. The names are checked, and passed in a variable rather than spliced into the script.
 */
export function stdinSecretToEnv(envNames: readonly string[], argv: readonly string[]): string[] {
  if (envNames.length === 0 || envNames.some((n) => !/^[A-Z_][A-Z0-9_]*$/.test(n))) {
    throw new TypeError('stdinSecretToEnv: give upper-case environment variable names');
  }
  if (argv.length === 0) throw new TypeError('stdinSecretToEnv: argv is empty');
  return ['env', `KBOPS_SECRET_VARS=${envNames.join(' ')}`, 'sh', '-c', STDIN_TO_ENV, 'sh', ...argv];
}

// The PCPPASSFILE is an unlinked file: created empty (mode 0600), opened as fd 3, removed, and only
// then written through the fd, so a SIGKILL at any moment leaves no password on disk. pcp reads it as
// /dev/fd/3 (on Linux that re-opens the deleted regular file, which passes pcp's 0600 check).
const STDIN_TO_PCPPASS =
  'umask 077; f=$(mktemp) || exit 70; { rm -f "$f"; IFS= read -r pw || exit 70; ' +
  'pw=$(printf %s "$pw" | sed \'s/[\\\\:]/\\\\&/g\'); printf \'%s:%s:%s:%s\\n\' "$1" "$2" "$3" "$pw" >&3; ' +
  'shift 3; PCPPASSFILE=/dev/fd/3 "$@"; } 3>"$f"';

/** `sh -c '…'` running a pcp_* tool with a PCPPASSFILE made from the password on stdin; see above. */
export function stdinSecretToPcpPass(
  host: string,
  port: number,
  user: string,
  argv: readonly string[],
): string[] {
  if (argv.length === 0) throw new TypeError('stdinSecretToPcpPass: argv is empty');
  return ['sh', '-c', STDIN_TO_PCPPASS, 'sh', host, String(port), user, ...argv];
}

const TAIL_ON_FAILURE =
  'n=$1; shift; paths=; i=0; while [ "$i" -lt "$n" ]; do paths="$paths$1\\n"; shift; i=$((i + 1)); done; ' +
  '"$@" && exit 0; rc=$?; printf "$paths" | while IFS= read -r p; do ' +
  'if [ -d "$p" ]; then f=$(ls -t "$p" 2>/dev/null | head -n 1); [ -n "$f" ] && p="$p/$f" || continue; fi; ' +
  '[ -f "$p" ] && { echo "--- $p" >&2; tail -n 20 "$p" >&2; }; done; exit $rc';

/**
 * `sh -c '…'` running argv; if it fails, the end of each log (a file, or the newest file of a
 * directory) goes to stderr, so the reason is kept in the journal even if a rollback removes the log.
 */
export function tailLogsOnFailure(logs: readonly string[], argv: readonly string[]): string[] {
  if (argv.length === 0) throw new TypeError('tailLogsOnFailure: argv is empty');
  if (logs.some((l) => l.includes('\n') || l.includes('%') || l.includes('\\'))) {
    throw new TypeError('tailLogsOnFailure: log paths may not hold newlines, % or \\');
  }
  return ['sh', '-c', TAIL_ON_FAILURE, 'sh', String(logs.length), ...logs, ...argv];
}
