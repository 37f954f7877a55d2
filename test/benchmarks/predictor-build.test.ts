import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latencyFeatures } from '../../benchmarks/latency-features.js';
import { LatencyPool } from '../../benchmarks/pool.js';
import { buildPredictor, ensurePredictor, localTarget, type LatencyTarget } from '../../benchmarks/predictor-build.js';
import {
  loadPredictor,
  predictInterval,
  PredictorFileError,
  predictorFileSchema,
  savePredictor,
  spaceFingerprint,
  type PredictorFile,
} from '../../benchmarks/predictor-file.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import { supernetSpace } from '../../space/supernet.js';
import type { DataShape, Genome, SearchSpaceConfig } from '../../space/types.js';

const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
const quick = { iterations: 15, time: 20, warmupTime: 5, warmupIterations: 2, maxRepeats: 0 };
const dir = mkdtempSync(join(tmpdir(), 'predictor-'));
let pool: LatencyPool;
let built: PredictorFile;
beforeAll(async () => {
  pool = new LatencyPool();
  // Three genomes spread over the MAC range: the smallest, a middle and the largest of a sample.
  built = await buildPredictor(space, localTarget(pool), { genomes: 3, measure: quick, spaceLabel: 'small', seed: 'test' });
}, 60_000);
afterAll(async () => {
  await pool.close();
});

/** Two sampled genomes where `big` has at least every feature of `small` and ≥ 5× its MACs. */
function dominatingPair(): [Genome, Genome] {
  const rng = seedrandom('pair');
  const genomes = Array.from({ length: 300 }, () => space.sample(rng));
  for (const a of genomes) {
    for (const b of genomes) {
      const fa = latencyFeatures(space.plan(a));
      const fb = latencyFeatures(space.plan(b));
      if (space.cost(b).macs >= 5 * space.cost(a).macs && fb.every((v, i) => v >= fa[i])) return [a, b];
    }
  }
  throw new Error('no dominating pair in the sample');
}

describe('calibrated latency predictor', () => {
  it('a build on three genomes gives finite, positive predictions ordered by size, and a valid file', () => {
    expect(built.calibration.genomes).toHaveLength(3);
    expect(predictorFileSchema.safeParse(built).success).toBe(true);
    const [small, big] = dominatingPair();
    const a = predictInterval(built, space.plan(small));
    const b = predictInterval(built, space.plan(big));
    for (const p of [a, b]) {
      expect(Number.isFinite(p.p50) && p.p50 > 0).toBe(true);
      expect(p.low).toBeLessThanOrEqual(p.p50);
      expect(p.high).toBeGreaterThanOrEqual(p.p50);
      expect(p.p90).toBeGreaterThanOrEqual(p.p50);
    }
    expect(b.p50).toBeGreaterThan(a.p50);
    expect(built.coefficients.every((c) => c >= 0)).toBe(true);
  });

  it('round-trips through a file, and refuses it for another target naming the file and field', () => {
    const file = join(dir, 'predictor.json');
    savePredictor(file, built);
    const expected = { environment: built.environment, spaceFingerprint: spaceFingerprint(space.config, space.data), precision: 'fp32' as const };
    const loaded = loadPredictor(file, expected);
    expect(loaded).toEqual(built);
    const plan = space.plan(space.sample(seedrandom('x')));
    expect(predictInterval(loaded, plan)).toEqual(predictInterval(built, plan));

    const refuse = (over: Partial<typeof expected>, field: RegExp) => {
      let error: unknown;
      try {
        loadPredictor(file, { ...expected, ...over });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PredictorFileError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toMatch(field);
      expect((error as PredictorFileError).code).toBe('E_PREDICTOR');
    };
    refuse({ environment: { ...built.environment, threads: built.environment.threads + 1 } }, /environment\.threads: built for 1, this target has 2/);
    refuse({ environment: { ...built.environment, cpuModel: 'Some Other CPU' } }, /environment\.cpuModel/);
    refuse({ environment: { ...built.environment, onnxruntime: '0.0.1' } }, /environment\.onnxruntime/);
    refuse({ precision: 'int8' }, /precision: built for fp32, this run needs int8/);
    refuse({ spaceFingerprint: '0123456789abcdef' }, /space\.fingerprint/);
  });

  it("serves a subspace of its space (a supernet search's narrowed space) and refuses one that steps outside, naming the field", () => {
    const file = join(dir, 'predictor-subspace.json');
    savePredictor(file, built);
    expect(built.space.config).toEqual(space.config);
    expect(built.space.data).toEqual({ inputChannels: 1, numClasses: 10 });
    const narrowed = supernetSpace(space.config).config;
    expect(narrowed).not.toEqual(space.config);
    const forSpace = (config: SearchSpaceConfig, data: DataShape = space.data) => ({
      environment: built.environment,
      spaceFingerprint: spaceFingerprint(config, data),
      space: { config, data },
      precision: 'fp32' as const,
    });
    expect(loadPredictor(file, forSpace(narrowed))).toEqual(built);

    const wider = structuredClone(narrowed);
    wider.stages[1].widths = [...wider.stages[1].widths, 200];
    expect(() => loadPredictor(file, forSpace(wider))).toThrow(/predictor-subspace\.json: space\.config\.stages\[1\]\.widths: .*\[200\] is not held by the predictor's space \(small\)/);
    expect(() => loadPredictor(file, forSpace(narrowed, { inputChannels: 3, numClasses: 10 }))).toThrow(/space\.data: .*fitted on 1-channel input and 10 classes, this run has 3 and 10/);
    // A file from before the space was written into it: only its own space, by fingerprint.
    const old = structuredClone(built);
    delete old.space.config;
    delete old.space.data;
    savePredictor(file, old);
    expect(() => loadPredictor(file, forSpace(narrowed))).toThrow(/predictor-subspace\.json: space\.fingerprint: built for space small/);
    expect(loadPredictor(file, forSpace(space.config))).toEqual(old);
  });

  it('names the bad field of a damaged file', () => {
    const file = join(dir, 'damaged.json');
    const damaged = structuredClone(built);
    damaged.coefficients[2] = -1;
    writeFileSync(file, JSON.stringify(damaged));
    expect(() => loadPredictor(file)).toThrow(/damaged\.json: coefficients\.2: /);
    writeFileSync(file, '{ not json');
    expect(() => loadPredictor(file)).toThrow(/damaged\.json: \(file\): is not valid JSON/);
  });

  it('a later run reuses the file without measuring, and refuses it on another target', async () => {
    const file = join(dir, 'ensure.json');
    savePredictor(file, built);
    let measurements = 0;
    const target = (threads: number): LatencyTarget => ({
      measure: async () => {
        measurements++;
        throw new Error('must not measure');
      },
      environment: async () => ({ ...built.environment, threads }),
    });
    const reused = await ensurePredictor(file, space, target(1), { genomes: 3 });
    expect(reused.state).toBe('reused');
    expect(reused.file).toEqual(built);
    expect(measurements).toBe(0);
    await expect(ensurePredictor(file, space, target(4), { genomes: 3, threads: 4 })).rejects.toThrow(/ensure\.json: environment\.threads: built for 1, this target has 4/);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(built);
  });
});
