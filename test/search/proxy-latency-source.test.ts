import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { readRun } from '../../search/run-directory.js';

describe('a proxy-evaluator run says what its numbers are', () => {
  it('records formula latency as `formula`, not `measured`, and writes no empty front/ (pareto.csv and summary.md point at no files)', async () => {
    const run = join(mkdtempSync(join(tmpdir(), 'proxy-source-')), 'run');
    await runSearch(resolveSearchConfig({ evaluator: 'proxy', seed: 8, searcher: { population: 6 }, budget: { generations: 2 } }), { runDir: run });
    const lines = readFileSync(join(run, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(new Set(lines.map((l) => l.latency?.source))).toEqual(new Set(['formula']));
    const candidates = parse(readFileSync(join(run, 'candidates.csv')), { columns: true }) as Array<Record<string, string>>;
    expect(new Set(candidates.map((r) => r.latency_source))).toEqual(new Set(['formula']));

    expect(existsSync(join(run, 'front'))).toBe(false);
    const pareto = parse(readFileSync(join(run, 'pareto.csv')), { columns: true }) as Array<Record<string, string>>;
    expect(pareto.length).toBeGreaterThan(0);
    for (const row of pareto) expect(row.files).toBe('');
    const summary = readFileSync(join(run, 'summary.md'), 'utf8');
    expect(summary).toContain('No model files: the proxy evaluator trains no model, so there is no `front/` directory.');
    expect(summary).not.toContain('are in `front/<id>/`');
    expect(summary).toContain('formula latency p50: nothing was trained or measured');
    // The run directory still reads back, each front member without files.
    expect(readRun(run).front.every((r) => r.frontDir === null)).toBe(true);
  });
});
