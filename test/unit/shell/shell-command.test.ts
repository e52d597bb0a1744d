import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  and,
  cmd,
  ifThen,
  inDir,
  isShellCommand,
  not,
  or,
  pipe,
  quote,
  redirect,
  script,
  seq,
  ShellCommand,
  subshell,
  toDisplay,
  withEnv,
} from '../../../src/shell/shell-command';

// Runs command text the way sshd does (`sh -c text`) in a scratch directory.
function run(
  c: ShellCommand,
  env?: NodeJS.ProcessEnv,
): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync('/bin/sh', ['-c', c.text], { cwd: scratch, env, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

const sh = (c: ShellCommand, env?: NodeJS.ProcessEnv): string => run(c, env).stdout;

// What argv the remote program actually receives: printf '%s\0' echoes each argument NUL-terminated.
function argvOf(args: string[], shell = '/bin/sh'): string[] {
  const out = execFileSync(shell, ['-c', cmd('printf', '%s\\0', ...args).text], { cwd: scratch });
  const parts = out.toString('utf8').split('\0');
  parts.pop();
  return parts;
}

const TRICKY = [
  '',
  ' ',
  'two words',
  "it's",
  "''",
  "'",
  '"double"',
  '$(touch pwned-dollar)',
  '`touch pwned-backtick`',
  '${HOME}',
  '$HOME',
  '\\',
  '\\n',
  'a;b',
  'a && b',
  'a || b',
  'a | b',
  'a\nb',
  '\n',
  '\r\n',
  '\t',
  '*',
  '?',
  '[a-z]*',
  '~',
  '~root',
  '-rf',
  '--',
  '-',
  '#comment',
  '!',
  '!!',
  '{a,b}',
  '<in',
  '>out',
  '2>&1',
  '&',
  '(sub)',
  'x=y',
  'ünïcödé ✓ 日本語 🐘',
  "'; touch pwned-quote; echo '",
  '\u0001\u0007\u001b[31m',
  '%s%d%%',
];

let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'kbops-shell-'));
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('quote', () => {
  it.each([
    ['', "''"],
    ['abc', "'abc'"],
    ['a b', "'a b'"],
    ["it's", "'it'\\''s'"],
    ['$(x)', "'$(x)'"],
    ['`x`', "'`x`'"],
  ])('quotes %j as %s', (input, expected) => {
    expect(quote(input)).toBe(expected);
  });

  it('refuses NUL bytes', () => {
    expect(() => quote('a\0b')).toThrow(TypeError);
    expect(() => cmd('echo', 'a\0b')).toThrow(/NUL/);
  });

  it('refuses lone surrogates, which would not survive UTF-8 encoding', () => {
    expect(() => quote('\uD800x')).toThrow(TypeError);
  });

  it('refuses non-strings at runtime', () => {
    expect(() => quote(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('argv round trip through /bin/sh', () => {
  it.each(TRICKY.map((s) => [JSON.stringify(s), s]))('%s arrives as one identical argument', (_label, s) => {
    expect(argvOf([s])).toEqual([s]);
  });

  // The remote login shell may be bash (root, kingbase) rather than dash.
  it.each(['/bin/sh', '/bin/bash'].filter((p) => existsSync(p)))(
    'passes all tricky strings together, in order, under %s',
    (shell) => {
      expect(argvOf(TRICKY, shell)).toEqual(TRICKY);
    },
  );

  it('passes a 10 kB argument with every quoting hazard intact', () => {
    const big = 'x\'y"z$`\\;\n '.repeat(1000);
    expect(big.length).toBeGreaterThanOrEqual(10_000);
    expect(argvOf([big])).toEqual([big]);
  });

  it('passes every printable ASCII character and random bytes-as-unicode', () => {
    const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const randoms = Array.from({ length: 50 }, () =>
      Array.from({ length: 1 + (rand() % 40) }, () => String.fromCodePoint(1 + (rand() % 0x2ff))).join(''),
    );
    expect(argvOf([ascii, ...randoms])).toEqual([ascii, ...randoms]);
  });

  it('creates no files from any injection attempt', () => {
    sh(cmd('echo', ...TRICKY));
    expect(existsSync(join(scratch, 'pwned-dollar'))).toBe(false);
    expect(existsSync(join(scratch, 'pwned-backtick'))).toBe(false);
    expect(existsSync(join(scratch, 'pwned-quote'))).toBe(false);
  });

  it('keeps `host;touch file` an argument, not a second command', () => {
    const pwned = join(scratch, `pwned-${process.pid}`);
    const out = sh(cmd('echo', `127.0.0.13;touch ${pwned}`));
    expect(out).toBe(`127.0.0.13;touch ${pwned}\n`);
    expect(existsSync(pwned)).toBe(false);
  });

  it('keeps a leading-dash argument an argument', () => {
    writeFileSync(join(scratch, '-n'), 'dash file\n');
    expect(sh(cmd('cat', '--', '-n'))).toBe('dash file\n');
    expect(argvOf(['-n', '-e'])).toEqual(['-n', '-e']);
  });

  it('does not expand globs or tilde', () => {
    writeFileSync(join(scratch, 'globbed'), '');
    expect(sh(cmd('echo', '*', '~'))).toBe('* ~\n');
  });
});

describe('cmd', () => {
  it('quotes every word', () => {
    expect(cmd('pg_ctl', '-D', '/data dir', 'start').text).toBe("'pg_ctl' '-D' '/data dir' 'start'");
  });

  it('refuses an empty program', () => {
    expect(() => cmd('')).toThrow(TypeError);
  });

  it('treats a reserved word or assignment as a program name, not syntax', () => {
    expect(run(cmd('if')).status).toBe(127);
    expect(cmd('A=b').text).toBe("'A=b'");
  });
});

describe('composition', () => {
  const t = cmd('true');
  const f = cmd('false');
  const echo = (s: string): ShellCommand => cmd('echo', s);

  it('builds && || ; and | with the expected text', () => {
    expect(and(echo('a'), echo('b')).text).toBe("'echo' 'a' && 'echo' 'b'");
    expect(or(echo('a'), echo('b')).text).toBe("'echo' 'a' || 'echo' 'b'");
    expect(seq(echo('a'), echo('b')).text).toBe("'echo' 'a'; 'echo' 'b'");
    expect(pipe(echo('a'), cmd('cat')).text).toBe("'echo' 'a' | 'cat'");
  });

  it('runs and/or/seq/pipe with shell semantics', () => {
    expect(sh(and(echo('a'), echo('b')))).toBe('a\nb\n');
    expect(sh(or(t, echo('no')))).toBe('');
    expect(sh(or(f, echo('yes')))).toBe('yes\n');
    expect(sh(seq(or(f, t), echo('after')))).toBe('after\n');
    expect(sh(pipe(cmd('printf', 'b\\na\\n'), cmd('sort')))).toBe('a\nb\n');
  });

  it('keeps the tree structure when mixing operators', () => {
    // a && (b || c) with a=false must print nothing; flat `false && b || c` would print c.
    expect(run(and(f, or(echo('b'), echo('c'))))).toMatchObject({ stdout: '', status: 1 });
    // (a || b) && c.
    expect(sh(and(or(f, echo('b')), echo('c')))).toBe('b\nc\n');
    // a || (b; c) with a=true must print nothing.
    expect(sh(or(t, seq(echo('b'), echo('c'))))).toBe('');
    // pipe of a list pipes the whole list's output.
    expect(sh(pipe(seq(echo('b'), echo('a')), cmd('sort')))).toBe('a\nb\n');
    // same operator flattens.
    expect(and(and(t, t), and(t, t)).text).toBe("'true' && 'true' && 'true' && 'true'");
  });

  it('negates with not', () => {
    expect(sh(or(not(t), echo('was true')))).toBe('was true\n');
    expect(sh(and(not(f), echo('was false')))).toBe('was false\n');
    expect(sh(and(not(and(t, f)), echo('group')))).toBe('group\n');
  });

  it('single operands pass through and empty lists are refused', () => {
    expect(and(t)).toBe(t);
    expect(() => and()).toThrow(TypeError);
    expect(() => seq()).toThrow(TypeError);
    expect(() => pipe()).toThrow(TypeError);
    expect(() => script([])).toThrow(TypeError);
  });

  it('ifThen branches', () => {
    const dir = join(scratch, 'if dir');
    const make = ifThen(cmd('test', '-d', dir), echo('exists'), cmd('mkdir', dir));
    expect(sh(make)).toBe('');
    expect(sh(make)).toBe('exists\n');
    expect(sh(ifThen(f, echo('no')))).toBe('');
  });

  it('subshell keeps exit and cd inside', () => {
    expect(sh(seq(subshell(seq(cmd('cd', '/'), cmd('exit', '3'))), cmd('pwd')))).toBe(`${scratch}\n`);
  });

  it('script joins lines with newlines', () => {
    const s = script([echo('a'), echo('b')]);
    expect(s.text).toBe("'echo' 'a'\n'echo' 'b'");
    expect(sh(s)).toBe('a\nb\n');
  });
});

describe('redirect', () => {
  it('writes, appends and merges stderr', () => {
    const out = join(scratch, 'out file');
    sh(redirect(cmd('echo', 'one'), { stdout: out }));
    sh(redirect(cmd('echo', 'two'), { stdout: out, append: true }));
    expect(sh(cmd('cat', out))).toBe('one\ntwo\n');
    const both = redirect(seq(cmd('echo', 'o'), cmd('sh', '-c', 'echo e >&2')), {
      stdout: out,
      stderr: '&1',
    });
    expect(both.text).toContain("> '" + out + "' 2>&1");
    sh(both);
    expect(sh(cmd('cat', out))).toBe('o\ne\n');
  });

  it('reads stdin from a file and sends stderr to a file', () => {
    const input = join(scratch, "in'put");
    writeFileSync(input, 'hello\n');
    expect(sh(redirect(cmd('cat'), { stdin: input }))).toBe('hello\n');
    const err = join(scratch, 'err');
    expect(run(redirect(cmd('ls', join(scratch, 'missing')), { stderr: err })).status).not.toBe(0);
    expect(sh(cmd('cat', err))).toMatch(/missing/);
  });

  it('groups compound commands so the redirect covers all of them', () => {
    const out = join(scratch, 'grouped');
    sh(redirect(and(cmd('echo', 'a'), cmd('echo', 'b')), { stdout: out }));
    expect(sh(cmd('cat', out))).toBe('a\nb\n');
  });

  it('refuses an empty redirect or empty path', () => {
    expect(() => redirect(cmd('true'), {})).toThrow(TypeError);
    expect(() => redirect(cmd('true'), { stdout: '' })).toThrow(TypeError);
  });
});

describe('withEnv', () => {
  it('prefixes a simple command with quoted assignments', () => {
    const c = withEnv(
      { PGPORT: '5432', WEIRD: "a b'$(x)" },
      cmd('sh', '-c', 'printf "%s|%s" "$PGPORT" "$WEIRD"'),
    );
    expect(c.text.startsWith("PGPORT='5432' WEIRD=")).toBe(true);
    expect(sh(c)).toBe("5432|a b'$(x)");
  });

  it('exports into a compound command', () => {
    const c = withEnv({ X: '1 2' }, and(cmd('true'), cmd('sh', '-c', 'echo "$X"')));
    expect(sh(c)).toBe('1 2\n');
  });

  it.each(['', '1A', 'A-B', 'A B', 'A;B', '$A', 'A=B', 'É'])('refuses variable name %j', (name) => {
    expect(() => withEnv({ [name]: 'v' }, cmd('true'))).toThrow(/invalid environment variable name/);
  });

  it('accepts names like _A1 and returns the command unchanged for {}', () => {
    expect(() => withEnv({ _A1: 'v', a: 'v' }, cmd('true'))).not.toThrow();
    const c = cmd('true');
    expect(withEnv({}, c)).toBe(c);
  });
});

describe('inDir', () => {
  it('runs in the directory without leaking the cd', () => {
    const dir = join(scratch, 'in dir');
    sh(cmd('mkdir', '-p', dir));
    expect(sh(seq(inDir(dir, cmd('pwd')), cmd('pwd')))).toBe(`${dir}\n${scratch}\n`);
  });

  it('handles relative names that look like options, ignoring CDPATH', () => {
    sh(cmd('mkdir', '-p', '--', '-P'));
    expect(inDir('-P', cmd('pwd')).text).toContain("'./-P'");
    expect(sh(inDir('-P', cmd('pwd')), { ...process.env, CDPATH: '/' })).toBe(`${scratch}/-P\n`);
  });

  it('does not run the command when cd fails', () => {
    const r = run(inDir('/nonexistent-kbops', cmd('echo', 'ran')));
    expect(r.stdout).toBe('');
    expect(r.status).not.toBe(0);
  });
});

describe('ShellCommand brand', () => {
  it('cannot be constructed outside the module', () => {
    const Ctor = ShellCommand as unknown as new (t: symbol, text: string, kind: string) => ShellCommand;
    expect(() => new Ctor(Symbol('ShellCommand'), 'rm -rf /', 'simple')).toThrow(TypeError);
  });

  it('refuses forged objects in builders', () => {
    const forged = { text: 'rm -rf /', kind: 'simple' } as unknown as ShellCommand;
    expect(isShellCommand(forged)).toBe(false);
    expect(() => and(cmd('true'), forged)).toThrow(TypeError);
    expect(() => toDisplay(forged)).toThrow(TypeError);
  });

  it('is frozen and displays as its text', () => {
    const c = cmd('echo', 'x');
    expect(Object.isFrozen(c)).toBe(true);
    expect(toDisplay(c)).toBe(c.text);
  });
});
