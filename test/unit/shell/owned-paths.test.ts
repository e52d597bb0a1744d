import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createClaimed,
  fillOwnedDir,
  makeOwnedDir,
  removeClaimed,
  removeOwned,
  REFUSED_EXIT,
} from '../../../src/shell/owned-paths';

// The scripts run for real under /bin/sh (dash on Debian), on a temp tree.

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kbops-owned-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const run = (argv: readonly string[]) => {
  const [prog, ...args] = argv;
  const r = spawnSync(prog!, args, { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('makeOwnedDir / removeOwned', () => {
  it('makes the directory, marks it, and its undo removes exactly it', () => {
    const d = join(root, 'db', 'data');
    const m = join(root, '.kbops', 'k1-datadir.made');
    expect(run(makeOwnedDir(m, d, 'k1')).code).toBe(0);
    expect(existsSync(d)).toBe(true);
    expect(readFileSync(m, 'utf8').split('\n')[0]).toBe('k1');
    writeFileSync(join(d, 'PG_VERSION'), '15');
    expect(run(removeOwned(m, d, 'k1', 'dir')).code).toBe(0);
    expect(existsSync(d)).toBe(false);
    expect(existsSync(m)).toBe(false);
    expect(existsSync(join(root, 'db'))).toBe(true); // a parent is never removed
  });

  it('refuses a directory someone else made, and its undo leaves theirs alone', () => {
    const d = join(root, 'data');
    mkdirSync(d);
    writeFileSync(join(d, 'colleague.txt'), 'mine');
    const m = join(root, '.kbops', 'k1-datadir.made');
    const made = run(makeOwnedDir(m, d, 'k1'));
    expect(made.code).toBe(REFUSED_EXIT);
    expect(made.stderr).toContain('already exists and was not made by this plan');
    const undo = run(removeOwned(m, d, 'k1', 'dir'));
    expect(undo.code).toBe(REFUSED_EXIT);
    expect(undo.stderr).toContain('was not made by this plan');
    expect(readFileSync(join(d, 'colleague.txt'), 'utf8')).toBe('mine');
  });

  it('is idempotent for the same plan and refuses another plan', () => {
    const d = join(root, 'data');
    const m = join(root, '.kbops', 'm');
    expect(run(makeOwnedDir(m, d, 'k1')).code).toBe(0);
    expect(run(makeOwnedDir(m, d, 'k1')).code).toBe(0);
    expect(run(makeOwnedDir(m, d, 'k2')).code).toBe(REFUSED_EXIT);
    expect(run(removeOwned(m, d, 'k2', 'dir')).code).toBe(REFUSED_EXIT);
    expect(existsSync(d)).toBe(true);
  });

  it('refuses to remove a directory replaced since it was made', () => {
    const d = join(root, 'data');
    const m = join(root, '.kbops', 'm');
    expect(run(makeOwnedDir(m, d, 'k1')).code).toBe(0);
    rmSync(d, { recursive: true });
    mkdirSync(join(root, 'filler')); // so the new directory cannot reuse the old inode
    mkdirSync(d);
    writeFileSync(join(d, 'theirs'), 'x');
    const undo = run(removeOwned(m, d, 'k1', 'dir'));
    expect(undo.code).toBe(REFUSED_EXIT);
    expect(undo.stderr).toContain('was replaced');
    expect(existsSync(join(d, 'theirs'))).toBe(true);
  });

  it('treats a directory already gone, or never made, as nothing to undo', () => {
    const d = join(root, 'data');
    const m = join(root, '.kbops', 'm');
    expect(run(removeOwned(m, d, 'k1', 'dir')).code).toBe(0);
    expect(run(makeOwnedDir(m, d, 'k1')).code).toBe(0);
    rmSync(d, { recursive: true });
    expect(run(removeOwned(m, d, 'k1', 'dir')).code).toBe(0);
    expect(existsSync(m)).toBe(false);
  });

  it('passes hostile paths through as data', () => {
    const d = join(root, "it's $(touch pwned); `x` \\ data");
    const m = join(root, '.kbops', 'm');
    expect(run(makeOwnedDir(m, d, "k'1")).code).toBe(0);
    expect(existsSync(d)).toBe(true);
    expect(run(removeOwned(m, d, "k'1", 'dir')).code).toBe(0);
    expect(existsSync(d)).toBe(false);
    expect(existsSync('pwned')).toBe(false);
  });
});

describe('fillOwnedDir / removeOwned contents', () => {
  const fill = (d: string) => ['sh', '-c', 'echo data > "$1/base"', 'sh', d];

  it('fills an empty directory and its undo empties it', () => {
    const d = join(root, 'data');
    mkdirSync(d);
    const m = join(root, '.kbops', 'bb');
    expect(run(fillOwnedDir(m, d, 'k1', fill(d))).code).toBe(0);
    expect(readFileSync(join(d, 'base'), 'utf8')).toBe('data\n');
    expect(run(removeOwned(m, d, 'k1', 'contents')).code).toBe(0);
    expect(existsSync(d)).toBe(true);
    expect(existsSync(join(d, 'base'))).toBe(false);
  });

  it("refuses a directory holding someone's file and never runs the command", () => {
    const d = join(root, 'data');
    mkdirSync(d);
    writeFileSync(join(d, 'colleague.txt'), 'mine');
    const m = join(root, '.kbops', 'bb');
    expect(run(fillOwnedDir(m, d, 'k1', fill(d))).code).toBe(REFUSED_EXIT);
    expect(existsSync(join(d, 'base'))).toBe(false);
    expect(run(removeOwned(m, d, 'k1', 'contents')).code).toBe(REFUSED_EXIT);
    expect(readFileSync(join(d, 'colleague.txt'), 'utf8')).toBe('mine');
  });

  it("empties its own earlier attempt on a retry and passes the command's exit code on", () => {
    const d = join(root, 'data');
    mkdirSync(d);
    const m = join(root, '.kbops', 'bb');
    expect(run(fillOwnedDir(m, d, 'k1', ['sh', '-c', 'echo half > "$1/half"; exit 1', 'sh', d])).code).toBe(
      1,
    );
    expect(run(fillOwnedDir(m, d, 'k1', fill(d))).code).toBe(0);
    expect(existsSync(join(d, 'half'))).toBe(false);
    expect(existsSync(join(d, 'base'))).toBe(true);
  });
});

describe('createClaimed / removeClaimed', () => {
  it('creates, and removes only with its claim', () => {
    const a = join(root, 'db', 'bin');
    const m = join(root, '.kbops', 'copy');
    const argv = ['sh', '-c', 'mkdir -p "$1" && echo x > "$1/f"', 'sh', a];
    expect(run(createClaimed(m, 'k1', [a], argv)).code).toBe(0);
    expect(existsSync(join(a, 'f'))).toBe(true);
    expect(run(removeClaimed(m, 'k2', [a])).code).toBe(REFUSED_EXIT);
    expect(run(removeClaimed(m, 'k1', [a])).code).toBe(0);
    expect(existsSync(a)).toBe(false);
    expect(existsSync(m)).toBe(false);
  });

  it('refuses when a path exists already, and then removes nothing', () => {
    const a = join(root, 'template.bk');
    writeFileSync(a, 'theirs');
    const m = join(root, '.kbops', 'copy');
    expect(run(createClaimed(m, 'k1', [a], ['sh', '-c', 'echo ours > "$1"', 'sh', a])).code).toBe(
      REFUSED_EXIT,
    );
    expect(readFileSync(a, 'utf8')).toBe('theirs');
    expect(run(removeClaimed(m, 'k1', [a])).code).toBe(REFUSED_EXIT);
    expect(readFileSync(a, 'utf8')).toBe('theirs');
  });

  it('finds nothing to remove when nothing was made', () => {
    expect(run(removeClaimed(join(root, 'm'), 'k1', [join(root, 'x')])).code).toBe(0);
  });
});
