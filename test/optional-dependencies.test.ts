/**
 * The optional parts load only when used: importing the library's space or
 * search entry loads neither the queue's bullmq/ioredis nor the charts'
 * vega/vega-lite (the search loads them for a queue run or a report, finalize
 * for --redis). Read
 * from a fresh process that lists every module its loader resolves.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..');
const OPTIONAL = ['bullmq', 'ioredis', 'vega', 'vega-lite'];

/** The packages under node_modules a fresh `node` resolves while running `code`. */
function packagesLoadedBy(code: string): string[] {
  const file = join(mkdtempSync(join(tmpdir(), 'loads-')), 'urls.txt');
  const child = spawnSync(process.execPath, ['--import', join(repo, 'test', 'fixtures', 'record-resolved-urls.mjs'), '--input-type=module', '-e', code], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, RESOLVED_URLS_FILE: file },
  });
  expect(child.status, child.stderr).toBe(0);
  const urls = readFileSync(file, 'utf8').split('\n');
  return [...new Set(urls.flatMap((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u)?.[1] ?? []))].sort();
}

describe('optional dependencies load only when used', () => {
  it('the probe sees what a module loads: the charts module, when drawing, loads vega and vega-lite', () => {
    const loaded = packagesLoadedBy(
      "const { renderVegaLiteSvg } = await import('./dist/charts.js'); await renderVegaLiteSvg({ data: { values: [{ x: 1 }] }, mark: 'point', encoding: { x: { field: 'x', type: 'quantitative' } } });",
    );
    expect(loaded).toEqual(expect.arrayContaining(['vega', 'vega-lite']));
  });

  for (const entry of ['space', 'search', 'finalize']) {
    it(`import 'nas-edge/${entry}' (dist/${entry}/index.js) loads none of ${OPTIONAL.join(', ')}`, () => {
      const loaded = packagesLoadedBy(`await import('./dist/${entry}/index.js');`);
      expect(loaded.length).toBeGreaterThan(0);
      expect(loaded.filter((p) => OPTIONAL.includes(p))).toEqual([]);
    });
  }
});
