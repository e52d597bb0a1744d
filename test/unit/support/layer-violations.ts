import { posix } from 'node:path';
import { preProcessFile } from 'typescript';

// The checker behind test/unit/layer-map.test.ts: pure, over file paths (relative to the project
// root, '/'-separated) and texts, so the test can show it failing on a synthetic file set.

/** Folder → the folders it may import (itself always allowed). Anything not listed is forbidden. */
export type LayerMap = Readonly<Record<string, readonly string[]>>;

export interface SourceText {
  readonly path: string;
  readonly text: string;
}

export interface LayerViolation {
  readonly file: string;
  readonly spec: string;
  readonly from: string;
  readonly to: string;
  readonly why: string;
}

// Project folders outside the layers: production code may never import them.
const NEVER_IMPORTED = new Set(['test', 'lab', 'scripts', 'bench']);
const PROJECT_ROOTS = new Set(['src', 'commands', ...NEVER_IMPORTED]);

/** The layer of a project path: the first folder under src/ (src/main.ts → main), or a root folder. */
export function layerOf(path: string): string {
  const parts = posix.normalize(path).split('/');
  const [root, first] = parts;
  if (root !== 'src') return root ?? '';
  if (first === undefined) return 'src';
  // A file directly in src/ is its own layer, named without its extension (src/main.js → main).
  return parts.length === 2 ? first.replace(/\.[cm]?[jt]sx?$/, '') : first;
}

/** Every module a file names: static and type-only imports, re-exports, import() and require(). */
export function importSpecifiers(text: string): string[] {
  return preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** The project path a specifier points into, or undefined for a package (node:fs, zod, …). */
export function projectTarget(file: string, spec: string): string | undefined {
  if (spec.startsWith('.')) return posix.normalize(posix.join(posix.dirname(file), spec));
  // A bare import of a project folder (no path alias is configured, but one may be added).
  const root = spec.split('/')[0] ?? '';
  return PROJECT_ROOTS.has(root) ? posix.normalize(spec) : undefined;
}

/** Every import of `files` against `map`, in file order, with the broken arrow and why. */
export function layerViolations(files: readonly SourceText[], map: LayerMap): LayerViolation[] {
  return files.flatMap((file) => {
    const from = layerOf(file.path);
    return importSpecifiers(file.text).flatMap((spec): LayerViolation[] => {
      const target = projectTarget(file.path, spec);
      if (target === undefined) return [];
      const to = target.startsWith('../') ? '(outside the project)' : layerOf(target);
      const why = arrowProblem(map, from, to);
      return why === undefined ? [] : [{ file: file.path, spec, from, to, why }];
    });
  });
}

function arrowProblem(map: LayerMap, from: string, to: string): string | undefined {
  const allowed = map[from];
  if (allowed === undefined) return `${from} is not in the layer map`;
  if (from === to || allowed.includes(to)) return undefined;
  if (NEVER_IMPORTED.has(to)) return `${to}/ is never imported by src/ or commands/`;
  if (map[to] === undefined) return `${to} is not in the layer map`;
  return `${from} → ${to} is not in the layer map`;
}

/** One line per violation: file, import, broken arrow. */
export function describeViolation(v: LayerViolation): string {
  return `${v.file} imports '${v.spec}': ${v.why}`;
}

/** A cycle in the map (first folder repeated at the end), or undefined when it is a DAG. */
export function layerCycle(map: LayerMap): string[] | undefined {
  const done = new Set<string>();
  const visit = (layer: string, path: readonly string[]): string[] | undefined => {
    const at = path.indexOf(layer);
    if (at >= 0) return [...path.slice(at), layer];
    if (done.has(layer)) return undefined;
    for (const next of map[layer] ?? []) {
      if (next === layer) continue;
      const cycle = visit(next, [...path, layer]);
      if (cycle) return cycle;
    }
    done.add(layer);
    return undefined;
  };
  for (const layer of Object.keys(map)) {
    const cycle = visit(layer, []);
    if (cycle) return cycle;
  }
  return undefined;
}

/** Folders the map's arrows name that the map itself does not define. */
export function undefinedLayers(map: LayerMap): string[] {
  const named = new Set(Object.values(map).flat());
  return [...named].filter((layer) => map[layer] === undefined).sort();
}

/** The map as the markdown table README shows (folders in the map's order). */
export function layerMapTable(map: LayerMap, folderOf: (layer: string) => string): string {
  const rows = Object.entries(map).map(
    ([layer, allowed]) =>
      `| ${folderOf(layer)} | ${allowed.length === 0 ? '(nothing)' : allowed.join(', ')} |`,
  );
  return ['| folder | may import |', '|---|---|', ...rows].join('\n');
}
