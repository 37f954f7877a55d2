import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { resolveSearchConfig, SearchConfigError, type SearchConfigInput } from '../../search/config.js';
import { runSearch } from '../../search/engine.js';
import { referencePoint } from '../../search/objectives.js';
import type { CandidateRecord } from '../../search/types.js';

const runDir = () => join(mkdtempSync(join(tmpdir(), 'search-')), 'run');
const proxy = (over: SearchConfigInput = {}) =>
  resolveSearchConfig({ evaluator: 'proxy', seed: 7, searcher: { population: 6 }, budget: { generations: 4 }, ...over });
const sequence = (records: CandidateRecord[]) => records.map((r) => `${r.generation}:${r.id}`);

/** Area of the union of boxes [p, reference] (minimisation), by the grid of their corners: slow and obviously right. */
function unionArea(points: number[][], reference: number[]): number {
  const inside = points.filter((p) => p[0] < reference[0] && p[1] < reference[1]);
  const xs = [...new Set([...inside.map((p) => p[0]), reference[0]])].sort((a, b) => a - b);
  const ys = [...new Set([...inside.map((p) => p[1]), reference[1]])].sort((a, b) => a - b);
  let area = 0;
  for (let i = 0; i + 1 < xs.length; i++) {
    for (let j = 0; j + 1 < ys.length; j++) {
      if (inside.some((p) => p[0] <= xs[i] && p[1] <= ys[j])) area += (xs[i + 1] - xs[i]) * (ys[j + 1] - ys[j]);
    }
  }
  return area;
}

describe('search engine (proxy evaluator: no training)', () => {
  it('same config and seed give the same sequence of genomes; another seed another', async () => {
    const a = await runSearch(proxy(), { runDir: runDir() });
    const b = await runSearch(proxy(), { runDir: runDir() });
    const c = await runSearch(proxy({ seed: 8 }), { runDir: runDir() });
    expect(a.records).toHaveLength(24);
    expect(sequence(a.records)).toEqual(sequence(b.records));
    expect(sequence(c.records)).not.toEqual(sequence(a.records));
    expect(new Set(a.records.map((r) => r.id)).size).toBe(24); // duplicates dropped by id
  });

  for (const algorithm of ['nsga2', 'aging', 'random'] as const) {
    it(`${algorithm}: the front only holds non-dominated trained candidates; each generation's hypervolume is that of the candidates so far`, async () => {
      const dir = runDir();
      const result = await runSearch(proxy({ searcher: { algorithm, population: 6, agingPopulation: 12, sampleSize: 3 }, budget: { generations: 5 } }), { runDir: dir });
      const evaluated = result.records.filter((r) => r.state === 'evaluated');
      for (const f of result.front) {
        expect(evaluated.some((r) => r.accuracy > f.accuracy && r.latency.p50 < f.latency.p50)).toBe(false);
      }
      const generations = parse(readFileSync(join(dir, 'generations.csv')), { columns: true, cast: true }) as Array<{ hypervolume: number }>;
      expect(generations).toHaveLength(5);
      // Against an independent count: the area dominated by the candidates of generations ≤ g.
      const reference = referencePoint(result.config);
      for (let g = 0; g < generations.length; g++) {
        const points = evaluated.filter((r) => r.generation <= g).map((r) => [-r.accuracy, r.latency.p50]); // objectives: accuracy, latency
        expect(generations[g].hypervolume).toBeCloseTo(unionArea(points, reference), 5);
      }
      // The search improves on its first generation (not true by construction: equal would pass ≥).
      expect(generations.at(-1)!.hypervolume).toBeGreaterThan(generations[0].hypervolume);
      expect(generations.at(-1)!.hypervolume).toBeCloseTo(result.hypervolume, 6);
    });
  }

  it('constraints reject before any training, and say which limit', async () => {
    let trained = 0;
    const config = proxy({ constraints: { maxParams: 150_000, maxLatencyMs: 0.2 } });
    const { ProxyEvaluator } = await import('../../search/evaluators.js');
    const { MobileNetSpace } = await import('../../space/space.js');
    const { SMALL_IMAGE_SPACE } = await import('../../space/defaults.js');
    const inner = new ProxyEvaluator(new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 }));
    const counting = { ...inner, latency: inner.latency.bind(inner), close: inner.close.bind(inner), train: (...args: Parameters<typeof inner.train>) => { trained++; return inner.train(...args); } };
    const result = await runSearch(config, { runDir: runDir(), evaluator: counting });
    const rejected = result.records.filter((r) => r.state === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) {
      if (r.state !== 'rejected') continue;
      expect(r.value).toBeGreaterThan(r.limit);
      if (r.constraint === 'maxParams') expect(r.params).toBeGreaterThan(150_000);
    }
    expect(trained).toBe(result.records.filter((r) => r.state === 'evaluated').length);
    for (const r of result.records) if (r.state === 'evaluated') expect(r.params <= 150_000 && r.latency.p50 <= 0.2).toBe(true);
  });

  it('a rejection reads as the limit it broke: a latency to 4 significant digits, a count whole', async () => {
    const { rejectionText } = await import('../../search/report.js');
    const base = { state: 'rejected' as const, id: '0123456789ab', generation: 0, genome: {} as CandidateRecord['genome'], params: 1, macs: 1 };
    expect(rejectionText({ ...base, constraint: 'maxLatencyMs', value: 0.5411770000000615, limit: 0.45 })).toBe('maxLatencyMs 0.5412 > 0.45');
    expect(rejectionText({ ...base, constraint: 'maxLatencyMs', value: 12.3456, limit: 5 })).toBe('maxLatencyMs 12.35 > 5');
    expect(rejectionText({ ...base, constraint: 'maxParams', value: 1_234_567, limit: 500_000 })).toBe('maxParams 1234567 > 500000');
  });

  it('an evaluation budget stops the run at exactly that many trained candidates', async () => {
    const result = await runSearch(proxy({ budget: { evaluations: 10 } }), { runDir: runDir() });
    expect(result.stopReason).toBe('evaluations');
    expect(result.records.filter((r) => r.state === 'evaluated')).toHaveLength(10);
  });

  it('an abort stops cleanly; resuming finishes with the front of an uninterrupted run', async () => {
    const config = proxy({ proxyDelayMs: 30, budget: { generations: 6 } });
    const whole = await runSearch(config, { runDir: runDir() });
    const dir = runDir();
    const controller = new AbortController();
    const first = await runSearch(config, {
      runDir: dir,
      signal: controller.signal,
      onGeneration: (e) => e.generation === 2 && controller.abort(),
    });
    expect(first.stopReason).toBe('interrupted');
    const resumed = await runSearch(null, { runDir: dir, resume: true });
    expect(resumed.stopReason).toBe('generations');
    expect(sequence(resumed.records)).toEqual(sequence(whole.records));
    expect(readFileSync(join(dir, 'pareto.csv'), 'utf8')).toBe(readFileSync(join(whole.runDir, 'pareto.csv'), 'utf8'));
  });

  it('refuses to start a new run over an existing one', async () => {
    const dir = runDir();
    await runSearch(proxy({ budget: { generations: 1 } }), { runDir: dir });
    await expect(runSearch(proxy(), { runDir: dir })).rejects.toThrow(SearchConfigError);
    await expect(runSearch(proxy(), { runDir: dir })).rejects.toThrow(/already holds a run; resume it with --resume/);
  });
});

describe('search config', () => {
  it('an unknown field and a bad duration name themselves', () => {
    expect(() => resolveSearchConfig({ searcher: { populaton: 4 } }, 'my.json')).toThrow('my.json: searcher.populaton: unknown field');
    expect(() => resolveSearchConfig({ budget: { time: 'eight hours' } }, 'my.json')).toThrow("my.json: budget.time: 'eight hours' is not a duration");
    expect(resolveSearchConfig({ budget: { time: '1h30m' } }).budget.time).toBe(5400);
    expect(() => resolveSearchConfig({ training: { epochs: 1, images: 100 } })).toThrow('training: give epochs or images, not both');
  });

  it('inside the teacher (a union of three forms) the error names the field of the form that was meant', () => {
    expect(() => resolveSearchConfig({ teacher: { train: { epochs: 3, architecture: 'resnet18' } } }, 'my.json')).toThrow(/^my\.json: teacher\.train\.architecture: .*"widest"\|"mobilenetv3-small"/);
    expect(() => resolveSearchConfig({ teacher: { train: { epochs: 3, arch: 'widest' } } }, 'my.json')).toThrow('my.json: teacher.train.arch: unknown field');
    expect(() => resolveSearchConfig({ teacher: { onnx: 3 } }, 'my.json')).toThrow(/^my\.json: teacher\.onnx: .*expected string/);
    expect(() => resolveSearchConfig({ teacher: 'yes' }, 'my.json')).toThrow('my.json: teacher: Invalid input');
    expect(resolveSearchConfig({ teacher: { train: { epochs: 3, architecture: 'mobilenetv3-small' } } }).teacher).toEqual({ train: { epochs: 3, architecture: 'mobilenetv3-small' } });
  });
});
