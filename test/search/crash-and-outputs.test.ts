import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { Nsga2 } from '../../search/nsga2.js';
import { reportFromJournal } from '../../search/report.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';

describe('a real search where one candidate\'s training worker crashes', () => {
  it('records that candidate as failed with the reason, trains the others, and writes results that parse', async () => {
    const config = resolveSearchConfig({
      seed: 5,
      searcher: { population: 3 },
      budget: { generations: 1 },
      training: { images: 128, subset: 300, batchSize: 32 },
      latency: { iterations: 20, time: 50 },
      workers: 1,
    });
    // The ids generation 0 will hold: the same seeded searcher, asked first.
    const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
    const first = new Nsga2(space, ['accuracy', 'latency'], config.searcher, config.seed, () => false).ask();
    const doomed = space.id(first[1]);
    process.env.NAS_TEST_CRASH_IDS = doomed;
    const dir = join(mkdtempSync(join(tmpdir(), 'crash-')), 'run');
    const result = await runSearch(config, {
      runDir: dir,
      trainWorkerFile: fileURLToPath(new URL('../fixtures/crashing-train-worker.mjs', import.meta.url)),
    });
    delete process.env.NAS_TEST_CRASH_IDS;

    // One worker trains the generation longest first (by MACs).
    const byMacs = [...first].sort((a, b) => space.cost(b).macs - space.cost(a).macs);
    expect(result.records.map((r) => r.id)).toEqual(byMacs.map((g) => space.id(g)));
    const failed = result.records.find((r) => r.id === doomed)!;
    expect(failed.state).toBe('failed');
    if (failed.state === 'failed') {
      expect(failed.stage).toBe('training');
      expect(failed.error).toMatch(/exit|terminated|code 7/i);
    }
    const others = result.records.filter((r) => r.id !== doomed);
    expect(others.map((r) => r.state)).toEqual(['evaluated', 'evaluated']);
    for (const r of others) if (r.state === 'evaluated') expect(r.accuracy).toBeGreaterThan(0);
    // Training records the validation log-likelihood beside the accuracy (a run may rank by it: rankBy).
    for (const r of others) if (r.state === 'evaluated') expect(r.logLikelihood).toBeLessThan(0);

    // candidates.csv and pareto.csv parse, with the columns the README promises.
    const candidates = parse(readFileSync(join(dir, 'candidates.csv')), { columns: true, cast: true }) as Array<Record<string, unknown>>;
    expect(candidates).toHaveLength(3);
    expect(Object.keys(candidates[0])).toEqual(['id', 'generation', 'state', 'on_front', 'genome', 'resolution', 'params', 'macs', 'latency_p50_ms', 'latency_p90_ms', 'latency_source', 'latency_precision', 'int8_variant', 'fp32_latency_p50_ms', 'accuracy', 'log_likelihood', 'train_seconds', 'images_per_second', 'constraint', 'error', 'rung', 'images_trained']);
    expect(candidates.find((c) => c.id === doomed)!.error).toMatch(/^training: /);
    expect(candidates.filter((c) => c.state === 'evaluated').every((c) => typeof c.log_likelihood === 'number' && c.log_likelihood < 0)).toBe(true);
    const pareto = parse(readFileSync(join(dir, 'pareto.csv')), { columns: true, cast: true }) as Array<Record<string, unknown>>;
    expect(pareto.length).toBe(result.front.length);
    expect(pareto.every((p) => candidates.find((c) => c.id === p.id)!.on_front === 'true')).toBe(true);

    // pareto.svg is an SVG with one symbol per trained candidate.
    const svg = readFileSync(join(dir, 'pareto.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect((svg.match(/<path[^>]*role="graphics-symbol"/g) ?? []).length).toBeGreaterThanOrEqual(2);
    expect(svg).toContain('validation accuracy (%)');

    // Front members' files are there and the report regenerates identically.
    for (const p of pareto) expect(readdirSync(join(dir, 'front', String(p.id))).sort()).toEqual(['genome.json', 'model.json', 'model.onnx', 'weights.bin']);
    const before = readFileSync(join(dir, 'candidates.csv'), 'utf8');
    await reportFromJournal(dir);
    expect(readFileSync(join(dir, 'candidates.csv'), 'utf8')).toBe(before);
  });
});
