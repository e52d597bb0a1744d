import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { preProcessFile } from 'typescript';

// src/core is pure: plans, rules and renderers with no I/O, so they can be tested as plain functions
// and trusted to do nothing behind the executor's back. This test holds the line the lint rule draws,
// and also catches type-only imports, require() and import().

const ROOT = resolve(__dirname, '../../..');
const CORE = join(ROOT, 'src/core');
// The shell text builders: pure functions from arguments to text (quoting, kbops's fixed wrappers).
const SHELL_TEXT = new Set(
  ['shell-command', 'owned-paths', 'script-names'].map((f) => join(ROOT, 'src/shell', f)),
);
const PACKAGES = new Set(['zod', 'node:crypto']);

/** The import specifiers of a file that src/core may not use, with why. */
export function impureImports(file: string, text: string): string[] {
  const { importedFiles } = preProcessFile(text, true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => {
      if (PACKAGES.has(spec)) return false;
      if (!spec.startsWith('.')) return true;
      const target = resolve(dirname(file), spec);
      return !SHELL_TEXT.has(target) && !`${target}${sep}`.startsWith(`${CORE}${sep}`);
    });
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('src/core purity', () => {
  const files = tsFiles(CORE);

  it('finds the core files', () => {
    expect(files.map((f) => relative(CORE, f))).toEqual(
      expect.arrayContaining([
        'plan.ts',
        'conditions.ts',
        'file-edits.ts',
        'render-plan.ts',
        'plan-schema.ts',
      ]),
    );
  });

  it.each(files.map((f) => [relative(ROOT, f), f]))('%s imports only pure modules', (_, file) => {
    const bad = impureImports(file, readFileSync(file, 'utf8'));
    expect(bad.map((spec) => `${relative(ROOT, file)} imports ${spec}`)).toEqual([]);
  });
});

describe('impureImports (the checker itself)', () => {
  const inCore = join(CORE, 'example.ts');
  const check = (text: string): string[] => impureImports(inCore, text);

  it('allows core-relative imports, zod, node:crypto and the shell text builders', () => {
    expect(
      check(`
        import { z } from 'zod';
        import { createHash } from 'node:crypto';
        import type { Plan } from './plan';
        import { quote } from '../shell/shell-command';
        import { nameScripts } from '../shell/script-names';
        import { REFUSED_EXIT } from '../shell/owned-paths';
        export { evaluate } from './conditions';
      `),
    ).toEqual([]);
    expect(impureImports(join(CORE, 'sub/x.ts'), `import { a } from '../plan';`)).toEqual([]);
  });

  it('names every other import, type-only, re-export, require and dynamic import included', () => {
    expect(
      check(`
        import { readFileSync } from 'fs';
        import type { ApprovalRecord } from '../ports/run-store';
        import { Client } from 'pg';
        export * from '../adapters/pg-sql-client';
        const ssh = require('ssh2');
        const later = () => import('node:child_process');
        import '../shell/other';
        import { x } from '../core-evil/x';
      `),
    ).toEqual([
      'fs',
      '../ports/run-store',
      'pg',
      '../adapters/pg-sql-client',
      'ssh2',
      'node:child_process',
      '../shell/other',
      '../core-evil/x',
    ]);
  });
});
