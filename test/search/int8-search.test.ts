import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { INT8_VARIANTS } from '../../benchmarks/int8-variants.js';
import { ignoredOnResume } from '../../cli/search.js';
import { compressRun } from '../../compress/compress-run.js';
import { resolveSearchConfig, SearchConfigError } from '../../search/config.js';
import { resumeSearch, runSearch } from '../../search/engine.js';
import { FRONT_INT8_FILE } from '../../search/front-int8.js';
import { readRun, readRunConfig } from '../../search/run-directory.js';
import type { CandidateRecord, EvaluatedRecord } from '../../search/types.js';
import { loadDataset } from '../../train/datasets/load.js';
import { decodeModel } from '../../onnx/model.js';
import seedrandom from 'seedrandom';
import { LATENCY_FEATURES } from '../../benchmarks/latency-features.js';
import { LatencyPool } from '../../benchmarks/pool.js';
import { localTarget } from '../../benchmarks/predictor-build.js';
import { savePredictor, spaceFingerprint, type PredictorFile } from '../../benchmarks/predictor-file.js';
import { RealEvaluator } from '../../search/evaluators.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';

const VARIANT_NAMES = INT8_VARIANTS.map((v) => v.name);
const base = {
  seed: 5,
  searcher: { population: 2 },
  training: { images: 128, subset: 300, batchSize: 32 },
  latency: { iterations: 20, time: 40 },
  workers: 1,
} as const;

const evaluatedOf = (records: readonly CandidateRecord[]) => records.filter((r): r is EvaluatedRecord => r.state === 'evaluated');
const opTypes = (bytes: Uint8Array) => new Set(decodeModel(bytes, 'model').graph!.node!.map((n) => n.opType!));

describe('a search for INT8 deployment (latency.precision "int8")', () => {
  it('records INT8 latencies, writes INT8 models into front/ that onnxruntime runs, keeps the precision on resume, and compress keeps the variant', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'int8-search-')), 'run');
    const config = resolveSearchConfig({ ...base, budget: { generations: 1 }, latency: { ...base.latency, precision: 'int8' } });
    const first = await runSearch(config, { runDir: dir });
    // Resumed under a new budget: the run's config.json decides the precision, not the command line.
    expect(ignoredOnResume({ precision: 'fp32', latencyThreads: 2 })).toEqual(['--precision', '--latency-threads']);
    const resumed = await resumeSearch(dir, { budget: { generations: 2 } });
    expect(readRunConfig(dir).config.latency.precision).toBe('int8');
    expect(resumed.records.length).toBeGreaterThan(first.records.length);

    const evaluated = evaluatedOf(resumed.records);
    expect(evaluated.length).toBe(4);
    for (const r of evaluated) {
      expect(r.latency).toMatchObject({ source: 'measured', precision: 'int8' });
      expect(VARIANT_NAMES).toContain(r.latency.int8Variant);
      expect(r.latency.fp32P50).toBeGreaterThan(0);
    }
    const candidates = parse(readFileSync(join(dir, 'candidates.csv')), { columns: true }) as Array<Record<string, string>>;
    for (const row of candidates.filter((c) => c.state === 'evaluated')) {
      expect(row.latency_precision).toBe('int8');
      expect(VARIANT_NAMES).toContain(row.int8_variant);
      expect(Number(row.fp32_latency_p50_ms)).toBeGreaterThan(0);
    }

    // front/<id>/ holds the INT8 model the latency is of: quantized (QDQ), and it runs.
    const run = readRun(dir);
    expect(run.front.length).toBeGreaterThan(0);
    for (const member of run.front) {
      expect(member.latencyPrecision).toBe('int8');
      const file = join(dir, 'front', member.id, FRONT_INT8_FILE);
      expect(existsSync(file), file).toBe(true);
      const bytes = readFileSync(file);
      expect(opTypes(bytes).has('DequantizeLinear')).toBe(true);
      const session = await ort.InferenceSession.create(bytes);
      const res = JSON.parse(readFileSync(join(dir, 'front', member.id, 'genome.json'), 'utf8')).genome.resolution;
      const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(2 * res * res), [2, 1, res, res]) });
      expect(out[session.outputNames[0]].dims).toEqual([2, 10]);
    }
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/latency: the INT8 model compress would ship/);

    // nas compress keeps the variant the search measured, whatever its speed on this run.
    const rows = await compressRun({ ...run, dataset: loadDataset(run.config.data) }, { prune: false, calibrationImages: 64, latencyTime: 60, maxModels: 1 });
    const int8Row = rows.find((r) => r.variant === 'int8')!;
    const measured = run.front.find((m) => m.id === int8Row.id)!;
    expect([`int8:${measured.int8Variant}`, expect.stringMatching(/^fp32 kept: .*loses more than/)]).toContainEqual(int8Row.int8_choice);
  }, 240_000);

  it('under "best" records which precision won, each with its own latency; a constraint is checked against that latency', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'best-search-')), 'run');
    const best = await runSearch(resolveSearchConfig({ ...base, budget: { generations: 1 }, latency: { ...base.latency, precision: 'best' } }), { runDir: dir });
    for (const r of evaluatedOf(best.records)) {
      expect(['fp32', 'int8']).toContain(r.latency.precision);
      // Both from one interleaved run: INT8 only when it beat fp32 by the noise margin (0.97), else fp32's own p50.
      if (r.latency.precision === 'int8') expect(r.latency.p50 / r.latency.fp32P50!).toBeLessThanOrEqual(0.97);
      else expect(r.latency.p50).toBe(r.latency.fp32P50);
    }

    const tight = await runSearch(resolveSearchConfig({ ...base, budget: { generations: 1 }, constraints: { maxLatencyMs: 1e-6 }, latency: { ...base.latency, precision: 'int8' } }), {
      runDir: join(mkdtempSync(join(tmpdir(), 'int8-tight-')), 'run'),
    });
    expect(tight.records.length).toBe(2);
    for (const r of tight.records) {
      expect(r.state).toBe('rejected');
      if (r.state === 'rejected') {
        expect(r.latency?.precision).toBe('int8');
        expect(r.value).toBe(r.latency!.p50);
      }
    }
  }, 240_000);

  it('uses a latency predictor only when it was built for the run\'s precision', async () => {
    const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
    const pool = new LatencyPool();
    const environment = await localTarget(pool).environment(1);
    await pool.close();
    const dir = mkdtempSync(join(tmpdir(), 'int8-predictor-'));
    const predictor = (precision: 'fp32' | 'int8'): string => {
      const file = join(dir, `${precision}.json`);
      const contents: PredictorFile = {
        kind: 'nas-edge-latency-predictor', version: 1, createdAt: new Date(0).toISOString(), environment,
        space: { label: 'small', fingerprint: spaceFingerprint(space.config, space.data) }, precision,
        features: [...LATENCY_FEATURES], coefficients: LATENCY_FEATURES.map(() => 1e-3), p90Ratio: 1.1,
        interval: { coverage: 0.9, halfWidth: 0.1 }, calibration: { genomes: [], leaveOneOutMape: 0, buildSeconds: 0 },
      };
      savePredictor(file, contents);
      return file;
    };
    const trainer = { train: async () => ({ accuracy: 0, trainSeconds: 0, imagesPerSecond: 0, lossCurve: [] }), close: async () => {} };
    const evaluatorWith = (file: string) =>
      new RealEvaluator({ space, config: resolveSearchConfig({ latency: { precision: 'int8', predictor: file }, constraints: { maxLatencyMs: 1 } }), runDir: dir, trainer });
    const wrong = evaluatorWith(predictor('fp32'));
    await expect(wrong.prepare([])).rejects.toThrow(/fp32\.json: precision: built for fp32, this run needs int8/);
    await wrong.close();
    const right = evaluatorWith(predictor('int8'));
    await right.prepare([]);
    expect(right.predictLatencyInterval(space.sample(seedrandom('g')))?.p50).toBeGreaterThan(0);
    await right.close();
  });

  it('refuses what cannot measure the precision, naming the field', () => {
    const refused = (value: object) => {
      try {
        resolveSearchConfig(value, 'run.json');
      } catch (error) {
        expect(error).toBeInstanceOf(SearchConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ latency: { precision: 'int4' } })).toMatch(/^run\.json: latency\.precision: /);
    expect(refused({ evaluator: 'proxy', latency: { precision: 'int8' } })).toMatch(/^run\.json: latency\.precision: the proxy evaluator's latency is a formula/);
    expect(refused({ latency: { precision: 'best', predictor: 'p.json' } })).toMatch(/^run\.json: latency\.predictor: a predictor stands for one precision/);
    expect(resolveSearchConfig({}).latency.precision).toBe('fp32');
  });
});
