import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { compressRun } from '../../compress/compress-run.js';
import { INT8_VARIANTS } from '../../benchmarks/int8-variants.js';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { refreshReportHtml } from '../../search/report.js';
import { readRun } from '../../search/run-directory.js';
import { loadDataset } from '../../train/datasets/load.js';
import { onnxFullCheck, TEST_SPACE } from '../helpers.js';

const EVERY_CONV_QUANTIZED = new Set(INT8_VARIANTS.filter((v) => !(v.options.keepFloat ?? []).some((kind) => kind.endsWith('conv'))).map((v) => `int8:${v.name}`));

describe('nas compress on a short search', () => {
  it('writes compression.csv (4 variants per front member), the plot and valid ONNX files; pruning cuts MACs', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'compress-')), 'run');
    await runSearch(
      resolveSearchConfig({ seed: 2, space: TEST_SPACE, searcher: { population: 2 }, budget: { generations: 1 }, training: { images: 256, subset: 500, batchSize: 32 }, latency: { iterations: 20, time: 50 }, workers: 1 }),
      { runDir: dir },
    );
    const run = readRun(dir);
    const rows = await compressRun({ ...run, dataset: loadDataset(run.config.data) }, { prune: { targetReduction: 0.3, fineTuneEpochs: 0, sensitivityImages: 100 }, calibrationImages: 64, latencyTime: 200 });
    await refreshReportHtml(dir); // as nas compress does after compressing
    const csv = parse(readFileSync(join(dir, 'compression.csv')), { columns: true, cast: true }) as Array<Record<string, string | number>>;
    expect(csv.length).toBe(rows.length);
    const ids = [...new Set(csv.map((r) => r.id))];
    expect(csv.length).toBe(4 * ids.length);
    for (const id of ids) {
      const of = (variant: string) => csv.find((r) => r.id === id && r.variant === variant)!;
      expect(of('fp32').latency_ratio_to_fp32).toBe(1);
      expect(Number(of('pruned').macs)).toBeLessThanOrEqual(0.7 * Number(of('fp32').macs));
      // The INT8 row is the variant measured fastest within the accuracy budget, or fp32 itself, and says which.
      for (const [quantized, float] of [['int8', 'fp32'], ['pruned+int8', 'pruned']]) {
        const choice = String(of(quantized).int8_choice);
        if (choice.startsWith('int8:')) {
          // Variants that keep some convolutions float store those weights as float: only the ones that quantize every convolution are a quarter of the size.
          if (EVERY_CONV_QUANTIZED.has(choice)) expect(Number(of(quantized).file_bytes)).toBeLessThan(0.5 * Number(of(float).file_bytes));
          expect(Number(of(float).test_accuracy) - Number(of(quantized).test_accuracy)).toBeLessThanOrEqual(0.005 + 1e-9);
        } else {
          expect(choice).toMatch(/^fp32 kept: /);
          expect(of(quantized).file).toBe(of(float).file);
        }
      }
      for (const variant of ['fp32', 'int8', 'pruned', 'pruned+int8']) {
        const file = join(dir, String(of(variant).file));
        expect(existsSync(file), file).toBe(true);
        onnxFullCheck(readFileSync(file));
      }
    }
    expect(readFileSync(join(dir, 'compression.svg'), 'utf8')).toMatch(/^<svg[\s\S]*test accuracy \(%\)[\s\S]*<\/svg>\s*$/);
    // report.html was regenerated with the "Deployable variants" section: compress's own CSV read as documented, one table row per CSV row.
    const report = readFileSync(join(dir, 'report.html'), 'utf8');
    const section = report.match(/<section id="variants">[\s\S]*?<\/section>/)?.[0] ?? '';
    expect(section).not.toContain('class="problem"');
    expect(section).toContain('<div id="variants-chart"');
    const table = section.match(/<table class="people" data-file="compression.csv">[\s\S]*?<\/table>/)?.[0] ?? '';
    expect(table.match(/<tr>/g)?.length).toBe(rows.length + 1);
  });
});
