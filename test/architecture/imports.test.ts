// The layering rules of docs/ARCHITECTURE.md, checked on the source: a folder with an index.ts
// is reached from outside only through it, no module imports itself back through others, and
// the folders' dependency graph has no cycle.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return entry.endsWith('.ts') ? [path] : [];
  });
}

const files = sourceFiles(src);
const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), (m[1] ?? m[2])!.replace(/\.js$/, '.ts')));
}

const graph = new Map(files.map((file) => [file, importsOf(file)]));
const moduleFolders = files
  .filter((file) => file.endsWith(`${sep}index.ts`))
  .map((file) => dirname(file))
  .filter((dir) => dir !== src.replace(/\/$/, ''));
const name = (path: string): string => relative(src, path);
const inside = (path: string, folder: string): boolean => path.startsWith(folder + sep);

/** Every cycle's files, found by depth-first search (one per strongly connected part is enough to fail). */
function cycles<T>(nodes: Iterable<T>, edges: (node: T) => Iterable<T>): T[][] {
  const found: T[][] = [];
  const state = new Map<T, 'open' | 'done'>();
  const path: T[] = [];
  const visit = (node: T): void => {
    state.set(node, 'open');
    path.push(node);
    for (const next of edges(node)) {
      if (state.get(next) === 'open') found.push(path.slice(path.indexOf(next)));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of nodes) if (!state.has(node)) visit(node);
  return found;
}

/** The stage folder of a file: its first directory under src/ (src/main.ts is its own). */
const stageOf = (file: string): string => name(file).split(sep)[0]!;

describe('source layering', () => {
  it('reads the source tree', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(moduleFolders.map(name)).toEqual(expect.arrayContaining(['xds', join('xds', 'protocol'), 'cache', 'store']));
  });

  it('imports a folder with an index.ts from outside only through that index', () => {
    const violations: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        // The outermost module folder that holds the target but not the importer is the boundary crossed.
        const crossed = moduleFolders.filter((folder) => inside(target, folder) && !inside(file, folder)).sort((a, b) => a.length - b.length)[0];
        if (crossed && target !== join(crossed, 'index.ts')) violations.push(`${name(file)} → ${name(target)} (use ${name(join(crossed, 'index.ts'))})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    expect(cycles(graph.keys(), (file) => graph.get(file) ?? []).map((cycle) => cycle.map(name).join(' → '))).toEqual([]);
  });

  it('has no cycle between the sub-folders of src/xds, nor between stages', () => {
    const folderGraph = new Map<string, Set<string>>();
    const stageGraph = new Map<string, Set<string>>();
    const xds = join(src, 'xds');
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const [from, to] = [stageOf(file), stageOf(target)];
        if (from !== to) (stageGraph.get(from) ?? stageGraph.set(from, new Set()).get(from)!).add(to);
        if (inside(file, xds) && inside(target, xds)) {
          const [a, b] = [relative(xds, dirname(file)), relative(xds, dirname(target))];
          if (a !== b) (folderGraph.get(a) ?? folderGraph.set(a, new Set()).get(a)!).add(b);
        }
      }
    }
    expect(cycles(folderGraph.keys(), (folder) => folderGraph.get(folder) ?? [])).toEqual([]);
    expect(cycles(stageGraph.keys(), (stage) => stageGraph.get(stage) ?? [])).toEqual([]);
    expect([...stageGraph].filter(([, to]) => to.has('cli')).map(([from]) => from)).toEqual(['main.ts']);
  });

  it('finds a planted cycle and a planted boundary crossing (the checks can fail)', () => {
    const planted = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', []],
    ]);
    expect(cycles(planted.keys(), (node) => planted.get(node) ?? [])).toEqual([['a', 'b', 'c']]);
  });
});
