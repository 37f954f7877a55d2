import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';

const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');

describe('nas report on a run directory without its journal', () => {
  it('refuses with exit 14 naming journal.jsonl, and leaves every file as it was (no empty journal created)', async () => {
    const run = join(mkdtempSync(join(tmpdir(), 'report-nojournal-')), 'run');
    await runSearch(resolveSearchConfig({ evaluator: 'proxy', seed: 2, searcher: { population: 6 }, budget: { generations: 2 } }), { runDir: run });
    rmSync(join(run, 'journal.jsonl'));
    const before = new Map(readdirSync(run).map((f) => [f, readFileSync(join(run, f))]));
    expect(before.get('pareto.csv')!.toString().split('\n').length).toBeGreaterThan(2);

    const report = spawnSync(process.execPath, [cli, 'report', run], { encoding: 'utf8' });
    expect(report.status).toBe(14);
    expect(report.stderr).toMatch(/journal\.jsonl: not found; nothing to report from/);
    expect(existsSync(join(run, 'journal.jsonl'))).toBe(false);
    expect(readdirSync(run).sort()).toEqual([...before.keys()].sort());
    for (const [file, bytes] of before) expect(readFileSync(join(run, file)).equals(bytes), file).toBe(true);
  });
});
