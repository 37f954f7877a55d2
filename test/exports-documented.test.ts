/**
 * The library API (package.json `exports`): every name the index files
 * export is declared with a doc comment, so editors show what it is.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..');
const entries = ['index.ts', 'space/index.ts', 'train/index.ts', 'benchmarks/index.ts', 'search/index.ts', 'compress/index.ts', 'finalize/index.ts'];

/** `export { a, type B } from './x.js'` lines of an index file: each name with the module it comes from. */
function reExports(file: string): Array<{ name: string; from: string }> {
  const source = readFileSync(file, 'utf8');
  const out: Array<{ name: string; from: string }> = [];
  for (const [, names, from] of source.matchAll(/export (?:type )?\{([^}]*)\} from '([^']+)'/g)) {
    for (const raw of names.split(',').map((n) => n.trim()).filter(Boolean)) {
      out.push({ name: raw.replace(/^type\s+/, ''), from: join(dirname(file), from.replace(/\.js$/, '.ts')) });
    }
  }
  return out;
}

/** Whether `name` is declared in `file` right after a doc comment, following re-exports. */
function documented(name: string, file: string): boolean {
  const source = readFileSync(file, 'utf8');
  const declaration = new RegExp(`(\\*/\\s*)?\\nexport (?:default )?(?:declare )?(?:abstract )?(?:async )?(?:function|class|const|let|interface|type|enum) ${name}\\b`);
  const match = declaration.exec(source);
  if (match) return match[1] !== undefined;
  const next = reExports(file).find((e) => e.name === name);
  if (!next) throw new Error(`${name}: not declared in ${file}`);
  return documented(name, next.from);
}

describe('the exported library API', () => {
  for (const entry of entries) {
    it(`${entry}: every export has a doc comment`, () => {
      const names = reExports(join(repo, entry));
      expect(names.length).toBeGreaterThan(0);
      const undocumented = names.filter((e) => !documented(e.name, e.from)).map((e) => `${e.name} (${e.from.slice(repo.length + 1)})`);
      expect(undocumented).toEqual([]);
    });
  }
});
