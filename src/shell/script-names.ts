import {
  createClaimed,
  fillOwnedDir,
  makeOwnedDir,
  removeClaimed,
  removeOwned,
  startClaimed,
  stopClaimed,
} from './owned-paths';
import {
  attachUntilUp,
  failoverLogLines,
  keepFiles,
  putBackFiles,
  startUnlessRunning,
  thenMark,
} from './server-control';
import { stdinSecretToEnv, stdinSecretToPcpPass, tailLogsOnFailure } from './shell-command';

// kbops's fixed `sh -c` wrappers, by name, so a plan can show `kbops:make-owned-dir <args>` on each
// step and the wrapper's text once: approvers read the same exact commands, in a fraction of the
// space. The texts are taken from the builders themselves, so a name can never stand for other text.

export interface NamedScript {
  readonly name: string;
  readonly about: string;
  readonly text: string;
}

/** [builder output, index of the script text in it, name, what it does]. */
const SAMPLES: readonly [readonly string[], number, string, string][] = [
  [
    stdinSecretToEnv(['X'], ['y']),
    4,
    'secret-env',
    'reads the secret from stdin into the named environment variables, then runs the rest',
  ],
  [
    stdinSecretToPcpPass('h', 1, 'u', ['y']),
    2,
    'pcp-passfile',
    'gives the rest a PCP password file made from stdin',
  ],
  [
    tailLogsOnFailure(['l'], ['y']),
    2,
    'tail-logs-on-failure',
    'runs the rest; if it fails, prints the end of the named logs',
  ],
  [
    makeOwnedDir('m', 'd', 'k'),
    2,
    'make-owned-dir',
    'makes the directory (refused if it exists) and marks it as made by this plan',
  ],
  [
    fillOwnedDir('m', 'd', 'k', ['y']),
    2,
    'fill-owned-dir',
    'runs the rest only into an empty directory (refused otherwise), marked as filled by this plan',
  ],
  [
    removeOwned('m', 'd', 'k', 'dir'),
    2,
    'remove-owned',
    'removes the directory (or its contents) only if its marker proves this plan made it',
  ],
  [
    createClaimed('m', 'k', ['p'], ['y']),
    2,
    'create-claimed',
    'runs the rest only if none of the paths exists (refused otherwise), claiming them for this plan',
  ],
  [removeClaimed('m', 'k', ['p']), 2, 'remove-claimed', 'removes the paths only if this plan claimed them'],
  [
    startClaimed('m', 'k', 'p', ['y']),
    2,
    'start-claimed',
    'runs the start only if no server runs there (refused otherwise), claiming it for this plan',
  ],
  [stopClaimed('m', 'k', 'p', ['y']), 2, 'stop-claimed', 'stops the server only if this plan started it'],
  [
    startUnlessRunning('c', 'd', 'l'),
    2,
    'start-unless-running',
    'starts the server (pg_ctl start -w, its log to the file) unless pg_ctl status says it runs',
  ],
  [
    attachUntilUp({ attach: 'a', info: 'i' }, { host: 'h', port: 1, user: 'u' }, 0),
    2,
    'attach-until-up',
    'pcp_attach_node, then waits until pcp_node_info shows the backend up; attaches again (at most 5 times)',
  ],
  [
    keepFiles('d', 'k', ['f']),
    2,
    'keep-files',
    'copies the named files of the data directory aside, once (an absent one is recorded as absent)',
  ],
  [
    putBackFiles('d', 'k', ['f']),
    2,
    'put-back-files',
    'puts the kept files back (and removes one that was absent before)',
  ],
  [thenMark('m', ['y']), 2, 'then-mark', 'runs the rest; only if it succeeded, leaves the marker file'],
  [failoverLogLines('f'), 2, 'failover-log-lines', "the last failover lines of the manager's log"],
];

let byText: ReadonlyMap<string, NamedScript> | undefined;

/** The wrapper whose exact text this is, if any. */
export function scriptNamed(text: string): NamedScript | undefined {
  byText ??= new Map(
    SAMPLES.map(([argv, i, name, about]) => {
      const t = argv[i];
      if (t === undefined || argv[i - 1] !== '-c') throw new Error(`script-names: ${name} moved in its argv`);
      return [t, { name, about, text: t }] as const;
    }),
  );
  return byText.get(text);
}

/** argv with every `sh -c <known text> sh` run shown as `kbops:<name>`, and the wrappers it used. */
export function nameScripts(argv: readonly string[]): { argv: string[]; used: NamedScript[] } {
  const out: string[] = [];
  const used: NamedScript[] = [];
  for (let i = 0; i < argv.length; i++) {
    const known =
      argv[i] === 'sh' && argv[i + 1] === '-c' && argv[i + 3] === 'sh'
        ? scriptNamed(argv[i + 2] ?? '')
        : undefined;
    if (known) {
      out.push(`kbops:${known.name}`);
      if (!used.includes(known)) used.push(known);
      i += 3;
    } else out.push(argv[i]!);
  }
  return { argv: out, used };
}
