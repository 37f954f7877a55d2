/**
 * The stack's shape, read from the source: every import points down
 * (leaves ← space ← train ← benchmarks ← search ← finalize, compress ← cli),
 * compress/ and finalize/ take the run from their caller instead of importing
 * search/, benchmarks/ does not reach up into compress/ (the ONNX graph code
 * both use is the onnx/ leaf), and no file imports itself through others.
 * Type-only and dynamic imports count: a cycle or an upward arrow is a
 * design fault whether or not it survives compilation.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..');
const SKIPPED = new Set(['node_modules', 'dist', 'test', 'results', '.git']);

/** Where each top-level unit sits in the stack; a file may import only from a lower rank (or its own unit; leaves from leaves). */
const RANK: Record<string, number> = {
  'errors.ts': 0, 'charts.ts': 0, 'locations.ts': 0, 'intervals.ts': 0, 'fifo-slots.ts': 0, 'worker-pool.ts': 0, onnx: 0,
  space: 1, train: 2, benchmarks: 3, search: 4, finalize: 5, compress: 5, cli: 6, bench: 7, 'index.ts': 7,
};

/** Every .ts source file of the package (not tests, not build output), repository-relative. */
function sourceFiles(dir = repo, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (SKIPPED.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts') && name !== 'vitest.config.ts') out.push(relative(repo, path));
  }
  return out;
}

/** The project files `source` (the text of `file`) imports: static, re-exports, type-only and dynamic. */
function importsOf(file: string, source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specifiers = [
    ...[...code.matchAll(/(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?(?:[^;'"]*?\sfrom\s+)?['"]([^'"]+)['"]/g)].map((m) => m[1]),
    ...[...code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]),
  ];
  return specifiers.filter((s) => s.startsWith('.')).map((s) => relative(repo, resolve(repo, dirname(file), s.replace(/\.js$/, '.ts'))));
}

/** Every cycle reachable in `graph`, each as the files around it (the first repeated at the end). */
function cyclesOf(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const cycles: string[][] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

const unitOf = (file: string) => file.split('/')[0];
const graph = new Map(sourceFiles().map((file) => [file, importsOf(file, readFileSync(join(repo, file), 'utf8'))]));
const edges = [...graph].flatMap(([from, targets]) => targets.map((to) => ({ from, to })));
const crossing = (fromUnit: string, toUnit: string) => edges.filter((e) => unitOf(e.from) === fromUnit && unitOf(e.to) === toUnit).map((e) => `${e.from} → ${e.to}`);

describe('the import graph of the source', () => {
  it('is read from the real files: the stages are all there and import each other', () => {
    for (const unit of Object.keys(RANK)) expect([...graph.keys()].some((f) => unitOf(f) === unit), unit).toBe(true);
    expect(crossing('search', 'train').length).toBeGreaterThan(0);
    expect(crossing('train', 'train').length).toBeGreaterThan(0);
  });

  it('compress/ and finalize/ import nothing from search/: the caller reads the run and hands it down', () => {
    expect([...crossing('compress', 'search'), ...crossing('finalize', 'search')]).toEqual([]);
  });

  it('benchmarks/ imports nothing from compress/: the quantizer it uses is in the onnx/ leaf', () => {
    expect(crossing('benchmarks', 'compress')).toEqual([]);
  });

  it('every import points down the stack', () => {
    const upward = edges
      .filter(({ from, to }) => {
        const [a, b] = [unitOf(from), unitOf(to)];
        if (RANK[a] === undefined || RANK[b] === undefined) return true; // a new top-level unit: give it a rank above
        return a !== b && !(RANK[b] < RANK[a]) && !(RANK[a] === 0 && RANK[b] === 0);
      })
      .map(({ from, to }) => `${from} → ${to}`);
    expect(upward).toEqual([]);
  });

  it('has no cycle: no file imports itself through others', () => {
    expect(cyclesOf(graph).map((c) => c.join(' → '))).toEqual([]);
  });
});

describe('the checks themselves', () => {
  it('find a cycle of two files and one of three, and none in a chain', () => {
    const two = new Map([['a.ts', ['b.ts']], ['b.ts', ['a.ts']]]);
    expect(cyclesOf(two)).toEqual([['a.ts', 'b.ts', 'a.ts']]);
    const three = new Map([['x/a.ts', ['x/b.ts']], ['x/b.ts', ['x/c.ts']], ['x/c.ts', ['x/a.ts']]]);
    expect(cyclesOf(three)).toEqual([['x/a.ts', 'x/b.ts', 'x/c.ts', 'x/a.ts']]);
    expect(cyclesOf(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', []]]))).toEqual([]);
  });

  it('read static, multi-line, type-only, re-exported and dynamic imports, not commented ones', () => {
    const source = [
      "import { a } from './a.js';",
      'import {\n  b,\n  c,\n} from "../search/b.js";',
      "import type { T } from './types.js';",
      "export { d } from './d.js';",
      "const m = await import('./lazy.js');",
      "import { z } from 'zod';",
      "/** see import('./not-this.js') */",
      "// import { e } from './not-this-either.js';",
    ].join('\n');
    expect(importsOf('compress/x.ts', source)).toEqual(['compress/a.ts', 'search/b.ts', 'compress/types.ts', 'compress/d.ts', 'compress/lazy.ts']);
  });
});
