import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';

/** A markdown table row's cells, split on pipes that are not escaped (as GitHub's renderer does). */
const cells = (row: string) => row.trim().replace(/^\||\|$/g, '').split(/(?<!\\)\|/).map((c) => c.trim());

describe("summary.md's front table", () => {
  it('has one row per front member and eight cells in every row, though genome summaries hold `|`', async () => {
    const run = join(mkdtempSync(join(tmpdir(), 'summary-table-')), 'run');
    const result = await runSearch(resolveSearchConfig({ evaluator: 'proxy', seed: 4, searcher: { population: 6 }, budget: { generations: 2 } }), { runDir: run });
    const text = readFileSync(join(run, 'summary.md'), 'utf8');
    const table = text.split('\n').filter((l) => l.startsWith('|'));
    expect(table.length).toBe(2 + result.front.length);
    for (const row of table) expect(cells(row), row).toHaveLength(8);
    // The precision the latency is of: fp32 unless latency.precision says otherwise.
    expect(cells(table[2])[4]).toBe('fp32');
    // The genome cell reads back as the genome summary, its pipes unescaped.
    const genome = cells(table[2])[7].replace(/\\\|/g, '|');
    expect(genome.split(' | ').length).toBeGreaterThan(2);
    expect(cells(table[2])[0]).toBe(result.front[0].id);
  });
});
