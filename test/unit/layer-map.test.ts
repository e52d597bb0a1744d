import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import {
  describeViolation,
  type LayerMap,
  layerCycle,
  layerMapTable,
  layerOf,
  layerViolations,
  type SourceText,
  undefinedLayers,
} from './support/layer-violations';

// Which folder may import which. A lower layer never imports a higher one, so a front end can be
// rewritten or added without touching what it stands on, and a runbook cannot reach for Slack or
// the store. Type-only imports count: a type is a dependency too. Packages and node built-ins are
// not checked here (test/unit/core/core-purity.test.ts keeps src/core free of I/O).

const SRC_LAYERS = {
  shell: [],
  log: [],
  core: ['shell'],
  dialects: ['core'],
  config: ['core', 'log'],
  ports: ['core', 'shell'],
  probes: ['core', 'dialects', 'ports', 'shell'],
  adapters: ['core', 'config', 'dialects', 'log', 'ports', 'shell'],
  store: ['core', 'config', 'log', 'ports'],
  engine: ['core', 'dialects', 'log', 'ports', 'shell'],
  // The judgement of a health reading (pure): what a report says, whoever shows it.
  health: ['core', 'probes'],
  render: ['core', 'dialects', 'health', 'log', 'probes', 'shell'],
  cluster: ['core', 'config', 'dialects', 'log', 'ports', 'probes', 'shell'],
  runbooks: ['cluster', 'core', 'config', 'dialects', 'log', 'ports', 'probes', 'shell'],
  chatops: [
    'health',
    'runbooks',
    'engine',
    'render',
    'cluster',
    'core',
    'config',
    'dialects',
    'log',
    'ports',
    'probes',
    'shell',
  ],
  app: [
    'health',
    'chatops',
    'runbooks',
    'engine',
    'render',
    'cluster',
    'adapters',
    'store',
    'core',
    'config',
    'dialects',
    'log',
    'ports',
    'probes',
    'shell',
  ],
  slack: ['app', 'health', 'chatops', 'runbooks', 'engine', 'render', 'core', 'config', 'log', 'ports'],
  console: ['app', 'health', 'chatops', 'runbooks', 'engine', 'render', 'core', 'config', 'log', 'ports'],
  cli: [
    'console',
    'app',
    'health',
    'chatops',
    'runbooks',
    'engine',
    'render',
    'core',
    'config',
    'log',
    'ports',
  ],
  // src/main.ts: the bot put together (commands/main.ts runs it).
  main: ['slack', 'app', 'config', 'log', 'chatops'],
} as const satisfies LayerMap;

const LAYER_MAP: LayerMap = {
  ...SRC_LAYERS,
  // The top: the chat verbs and the two executables (commands/main.ts runs src/main.ts's bot).
  commands: Object.keys(SRC_LAYERS),
};

const ROOT = resolve(__dirname, '../..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

const projectPath = (file: string): string => relative(ROOT, file).split(sep).join('/');

function folderOf(layer: string): string {
  if (layer === 'main') return '`src/main.ts`';
  return layer === 'commands' ? '`commands/`' : `\`src/${layer}/\``;
}

describe('the layer map', () => {
  it('has no cycle', () => {
    expect(layerCycle(LAYER_MAP)).toBeUndefined();
    // An arrow back down-up would make one.
    expect(layerCycle({ ...LAYER_MAP, core: ['shell', 'engine'] })).toEqual(['core', 'engine', 'core']);
  });

  it('defines every folder its arrows name', () => {
    expect(undefinedLayers(LAYER_MAP)).toEqual([]);
  });

  it('places every folder and file directly under src/ (a new one is placed deliberately)', () => {
    const layers = readdirSync(join(ROOT, 'src'), { withFileTypes: true })
      .filter((e) => e.isDirectory() || e.name.endsWith('.ts'))
      .map((e) => layerOf(`src/${e.name}`));
    expect(layers.filter((layer) => !(layer in LAYER_MAP))).toEqual([]);
  });

  it('is the table README shows', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const shown = /<!-- layer-map:start[^>]*-->\n([\s\S]*?)\n<!-- layer-map:end -->/.exec(readme);
    expect(shown?.[1]).toBe(layerMapTable(LAYER_MAP, folderOf));
  });
});

describe('imports in src/ and commands/', () => {
  const files: SourceText[] = ['src', 'commands']
    .flatMap((dir) => tsFiles(join(ROOT, dir)))
    .map((file) => ({ path: projectPath(file), text: readFileSync(file, 'utf8') }));

  it('finds the project files', () => {
    expect(files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['src/main.ts', 'src/core/plan.ts', 'commands/kingbase-commands.ts']),
    );
  });

  it('follow the layer map', () => {
    expect(layerViolations(files, LAYER_MAP).map(describeViolation)).toEqual([]);
  });
});

describe('layerViolations (the checker itself)', () => {
  const check = (path: string, text: string): string[] =>
    layerViolations([{ path, text }], LAYER_MAP).map(describeViolation);

  it('reports imports against the map, with the file, the import and the broken arrow', () => {
    const files: SourceText[] = [
      { path: 'src/engine/x.ts', text: `import { y } from '../adapters/y';` },
      { path: 'src/render/z.ts', text: `import type { W } from '../engine/w';` },
      { path: 'src/slack/a.ts', text: `export { b } from '../../commands/b';` },
      { path: 'src/runbooks/add-node/p.ts', text: `const s = require('../../store/db');` },
      { path: 'src/core/q.ts', text: `const l = () => import('../log/create-logger');` },
      { path: 'src/app/r.ts', text: `import { s } from 'src/slack/slack-app';` },
    ];
    expect(layerViolations(files, LAYER_MAP).map(describeViolation)).toEqual([
      `src/engine/x.ts imports '../adapters/y': engine → adapters is not in the layer map`,
      `src/render/z.ts imports '../engine/w': render → engine is not in the layer map`,
      `src/slack/a.ts imports '../../commands/b': slack → commands is not in the layer map`,
      `src/runbooks/add-node/p.ts imports '../../store/db': runbooks → store is not in the layer map`,
      `src/core/q.ts imports '../log/create-logger': core → log is not in the layer map`,
      `src/app/r.ts imports 'src/slack/slack-app': app → slack is not in the layer map`,
    ]);
  });

  it('never lets src/ or commands/ import test/, lab/, scripts/ or bench/', () => {
    expect(check('commands/x/x.ts', `import { a } from '../../test/unit/engine/fakes';`)).toEqual([
      `commands/x/x.ts imports '../../test/unit/engine/fakes': test/ is never imported by src/ or commands/`,
    ]);
    expect(check('src/main.ts', `import '../lab/lab-cli';`)).toEqual([
      `src/main.ts imports '../lab/lab-cli': lab/ is never imported by src/ or commands/`,
    ]);
    expect(check('src/cli/x.ts', `import { d } from '../../scripts/demo';`)).toHaveLength(1);
    expect(check('src/cli/x.ts', `import { b } from '../../bench/b';`)).toHaveLength(1);
  });

  it('reports a folder the map does not place, and imports from outside the project', () => {
    expect(check('src/newfolder/x.ts', `import { p } from '../core/plan';`)).toEqual([
      `src/newfolder/x.ts imports '../core/plan': newfolder is not in the layer map`,
    ]);
    expect(check('src/core/x.ts', `import { n } from '../newfolder/n';`)).toEqual([
      `src/core/x.ts imports '../newfolder/n': newfolder is not in the layer map`,
    ]);
    expect(check('src/core/x.ts', `import { o } from '../../../elsewhere/o';`)).toEqual([
      `src/core/x.ts imports '../../../elsewhere/o': (outside the project) is not in the layer map`,
    ]);
  });

  it('allows the map’s arrows, a folder’s own files, packages and node built-ins', () => {
    expect(
      check(
        'src/engine/sub/x.ts',
        `
          import { a } from '../executor';
          import { b } from './c';
          import type { Plan } from '../../core/plan';
          import { quote } from '../../shell/shell-command';
          import { readFileSync } from 'node:fs';
          import { z } from 'zod';
        `,
      ),
    ).toEqual([]);
    expect(check('commands/add-node/x.ts', `import { s } from '../../src/slack/slack-app';`)).toEqual([]);
    expect(check('src/main.ts', `import { startBot } from './app/start-bot';`)).toEqual([]);
  });
});

describe('layerCycle', () => {
  it('names a cycle in a map, and none in a DAG', () => {
    expect(layerCycle({ a: ['b'], b: ['c'], c: ['a'] })).toEqual(['a', 'b', 'c', 'a']);
    expect(layerCycle({ a: ['b', 'c'], b: ['c'], c: [] })).toBeUndefined();
  });
});
