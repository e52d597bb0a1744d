import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd, stdinSecretToEnv, stdinSecretToPcpPass } from '../../../src/shell/shell-command';

// The two argv prefixes that carry a secret from stdin to a tool, run for real the way the executor
// runs an ssh action: the argv quoted by cmd(), the text given to a login shell, the secret plus a
// newline on stdin. Each case runs with `sh` as dash and as bash (CentOS's sh).

const PASSWORDS = [
  '123456',
  "it's",
  '"double" quotes',
  'two  spaces and a tab\there',
  ' leading and trailing ',
  'back\\slash\\n\\',
  'co:lon::end:',
  '$(touch pwned)',
  '`touch pwned`',
  '${HOME}$PATH*?[a]',
  '-n',
  '%s%d\\0',
  'пароль密码',
];

let scratch: string;
let tmp: string;
const shells: Record<string, string> = {};

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kbops-secret-'));
  tmp = join(scratch, 'tmp');
  mkdirSync(tmp);
  for (const [name, target] of [
    ['dash', '/bin/dash'],
    ['bash', '/bin/bash'],
  ]) {
    if (!existsSync(target!)) continue;
    const dir = join(scratch, name!);
    mkdirSync(dir);
    symlinkSync(target!, join(dir, 'sh'));
    shells[name!] = dir;
  }
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs argv as the executor does, with `sh` resolving to the given shell, in the scratch directory. */
function run(shell: string, argv: string[], stdin: string) {
  const r = spawnSync('/bin/sh', ['-c', cmd(...(argv as [string, ...string[]])).text], {
    cwd: scratch,
    input: stdin,
    encoding: 'utf8',
    env: { PATH: `${shells[shell]}:/usr/bin:/bin`, TMPDIR: tmp },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Prints the command lines of the tool's process and of every ancestor, one per line, up to init.
const CMDLINES =
  'p=$$; while [ "$p" -gt 1 ]; do tr "\\0" " " < /proc/$p/cmdline; echo; p=$(cut -d" " -f4 /proc/$p/stat); done';

describe.each(['dash', 'bash'])('with sh = %s', (shell) => {
  beforeAll(() => {
    if (!shells[shell]) throw new Error(`/bin/${shell} is needed for this test`);
  });

  describe('stdinSecretToEnv', () => {
    it.each(PASSWORDS)('hands %j to the tool intact in every named variable', (pw) => {
      const argv = stdinSecretToEnv(
        ['PGPASSWORD', 'KINGBASE_PASSWORD'],
        ['sh', '-c', 'printf "%s|%s" "$PGPASSWORD" "$KINGBASE_PASSWORD"'],
      );
      expect(argv.join('\n')).not.toContain(pw);
      const r = run(shell, argv, `${pw}\n`);
      expect(r).toEqual({ status: 0, stdout: `${pw}|${pw}`, stderr: '' });
      expect(existsSync(join(scratch, 'pwned'))).toBe(false);
    });

    it('keeps the secret out of every command line, and leaves no helper variables behind', () => {
      const pw = 'S3cret-in-env-only';
      const argv = stdinSecretToEnv(['PGPASSWORD'], ['sh', '-c', `${CMDLINES}; echo --env--; env`]);
      const r = run(shell, argv, `${pw}\n`);
      expect(r.status).toBe(0);
      const lines = r.stdout.split('\n');
      const cmdlines = lines.slice(0, lines.indexOf('--env--'));
      expect(cmdlines[0]).toMatch(/^sh -c p=\$\$; while /);
      expect(cmdlines.length).toBeGreaterThan(2); // the tool, the login shell, the test runner…
      expect(cmdlines.join('\n')).not.toContain(pw);
      const env = lines.slice(cmdlines.length + 1);
      expect(env).toContain(`PGPASSWORD=${pw}`);
      expect(env.filter((l) => /^(kbops_secret|KBOPS_SECRET_VARS)=/.test(l))).toEqual([]);
    });

    it("passes the tool's exit status through, and refuses to run without a secret line", () => {
      expect(run(shell, stdinSecretToEnv(['PGPASSWORD'], ['sh', '-c', 'exit 3']), 'pw\n').status).toBe(3);
      const touch = stdinSecretToEnv(['PGPASSWORD'], ['touch', join(scratch, 'ran')]);
      expect(run(shell, touch, '').status).toBe(70);
      expect(run(shell, touch, 'no newline').status).toBe(70);
      expect(existsSync(join(scratch, 'ran'))).toBe(false);
    });

    it('gives the tool its arguments exactly, even ones that look like options or shell', () => {
      const args = ['-W', '$(touch pwned)', "'", '', 'a b'];
      const r = run(shell, stdinSecretToEnv(['PGPASSWORD'], ['printf', '[%s]', ...args]), 'pw\n');
      expect(r.stdout).toBe(args.map((a) => `[${a}]`).join(''));
    });
  });

  describe('stdinSecretToPcpPass', () => {
    // What the tool sees: the file's name, its mode (through the link), its content, and what is in
    // TMPDIR while it runs.
    const show = 'f=$PCPPASSFILE; printf "%s\\n" "$f"; stat -L -c "%a %F" "$f"; cat "$f"; ls -A "$TMPDIR"';

    it.each(PASSWORDS)(
      'hands %j escaped to the tool in a private PCPPASSFILE that has no name on disk',
      (pw) => {
        const argv = stdinSecretToPcpPass('127.0.0.10', 9898, 'SYSTEM', ['sh', '-c', show]);
        expect(argv.join('\n')).not.toContain(pw);
        const r = run(shell, argv, `${pw}\n`);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const [file, mode, line, rest] = r.stdout.split('\n');
        expect(file).toBe('/dev/fd/3');
        expect(mode).toBe('600 regular file');
        expect(line).toBe(`127.0.0.10:9898:SYSTEM:${pw.replace(/[\\:]/g, '\\$&')}`);
        expect(rest).toBe(''); // TMPDIR was already empty while the tool ran: a kill leaves no password
        expect(readdirSync(tmp)).toEqual([]);
        expect(existsSync(join(scratch, 'pwned'))).toBe(false);
      },
    );

    it('escapes : and \\ so that pcp reads the password back', () => {
      const r = run(shell, stdinSecretToPcpPass('h', 1, 'u', ['sh', '-c', 'cat "$PCPPASSFILE"']), 'a:b\\c\n');
      expect(r.stdout).toBe('h:1:u:a\\:b\\\\c\n');
    });

    it('leaves no file when the tool fails too, and passes its exit status through', () => {
      const r = run(
        shell,
        stdinSecretToPcpPass('h', 1, 'u', ['sh', '-c', 'ls -A "$TMPDIR"; exit 9']),
        'pw\n',
      );
      expect(r.status).toBe(9);
      expect(r.stdout).toBe('');
      expect(readdirSync(tmp)).toEqual([]);
    });

    it('keeps the secret out of every command line', () => {
      const pw = 'Pcp-S3cret-on-stdin';
      const r = run(shell, stdinSecretToPcpPass('h', 1, 'u', ['sh', '-c', CMDLINES]), `${pw}\n`);
      expect(r.status).toBe(0);
      expect(r.stdout.split('\n')[0]).toMatch(/^sh -c p=\$\$; while /);
      expect(r.stdout.split('\n').filter(Boolean).length).toBeGreaterThan(2);
      expect(r.stdout).not.toContain(pw);
    });

    it('refuses to run without a secret line, leaving no file', () => {
      const r = run(shell, stdinSecretToPcpPass('h', 1, 'u', ['touch', join(scratch, 'ran')]), '');
      expect(r.status).toBe(70);
      expect(existsSync(join(scratch, 'ran'))).toBe(false);
      expect(readdirSync(tmp)).toEqual([]);
    });

    it('takes host, port and user as data, never as shell', () => {
      const r = run(
        shell,
        stdinSecretToPcpPass('$(touch pwned)', 1, "u'; touch pwned; '", ['sh', '-c', 'cat "$PCPPASSFILE"']),
        'pw\n',
      );
      expect(r.stdout).toBe("$(touch pwned):1:u'; touch pwned; ':pw\n");
      expect(existsSync(join(scratch, 'pwned'))).toBe(false);
    });
  });
});

describe('argument checks', () => {
  it.each([[[]], [['pgpassword']], [['PG PASS']], [['A;B']], [['1A']], [['A=B']], [['$(x)']], [['OK', '']]])(
    'stdinSecretToEnv refuses env names %j',
    (names) => {
      expect(() => stdinSecretToEnv(names, ['true'])).toThrow(
        'stdinSecretToEnv: give upper-case environment variable names',
      );
    },
  );

  it('refuses an empty argv', () => {
    expect(() => stdinSecretToEnv(['PGPASSWORD'], [])).toThrow('stdinSecretToEnv: argv is empty');
    expect(() => stdinSecretToPcpPass('h', 1, 'u', [])).toThrow('stdinSecretToPcpPass: argv is empty');
  });
});
