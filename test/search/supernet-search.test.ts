import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { newRunConfig, objectivesOf, resolveSearchConfig } from '../../search/config.js';
import { hypervolumeObjectives, pointOf, referencePoint } from '../../search/objectives.js';
import type { EvaluatedRecord } from '../../search/types.js';
import { hypervolume, paretoFront } from '../../search/pareto.js';
import { runSearch } from '../../search/engine.js';
import { supernetSearchSpace } from '../../search/supernet-trainer.js';
import { parseGenome } from '../../space/schema.js';
import { planNetwork } from '../../space/plan.js';
import { flatWeightSource, stridesOf, supernetPlan, supernetSpace } from '../../space/supernet.js';
import type { SearchSpaceConfig } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, withTrainingSubset } from '../../train/datasets/prepared.js';
import { supernetFor } from '../../train/supernet-run.js';
import { scoreSubnet } from '../../train/supernet-score.js';
import { DEFAULT_SUPERNET_RECIPE } from '../../train/supernet-train.js';
import { onnxFullCheck } from '../helpers.js';
import { finalizeRun, planFinalization } from '../../finalize/finalize-run.js';
import { buildOnnxModel } from '../../space/build-onnx.js';
import { randomWeights } from '../../space/random-weights.js';
import { teacherKey } from '../../train/teacher.js';
import { FINE_TUNE_LEARNING_RATE_SCALE } from '../../finalize/recipe.js';
import { runSetting } from '../../search/config-helpers.js';
import { readRun } from '../../search/run-directory.js';
import { loadCandidateModel } from '../../space/candidate-files.js';
import { measureQuality } from '../../bench/supernet-quality.js';

/** The pipeline tests' reduced space, at two resolutions: small enough to train a supernet (with kernel transformation matrices) in seconds. */
const SPACE: SearchSpaceConfig = {
  resolutions: [24, 28],
  stemWidths: [8],
  stemStride: 1,
  stages: [
    { depths: [1], widths: [8], expandRatios: [1], kernelSizes: [3], squeezeExcite: [false], activations: ['relu6'], stride: 1 },
    { depths: [1, 2], widths: [12, 16], expandRatios: [3, 6], kernelSizes: [3, 5], squeezeExcite: [false, true], activations: ['relu6', 'hswish'], stride: 2 },
    { depths: [1, 2], widths: [16, 24], expandRatios: [3, 6], kernelSizes: [3, 5], squeezeExcite: [false], activations: ['hswish'], stride: 2 },
  ],
  headWidths: [32, 48],
};

let key: string;

beforeAll(async () => {
  process.env.NAS_CACHE_DIR = mkdtempSync(join(tmpdir(), 'supernet-search-'));
  await selectBackend('wasm');
  const data = withTrainingSubset(prepareData(loadDataset('fashion-mnist-sample'), { validationFraction: 0.1, seed: 3 }), 512, 0);
  const trained = await supernetFor(supernetSpace(SPACE), data, { ...DEFAULT_SUPERNET_RECIPE, epochs: 1, batchSize: 32, distillation: { temperature: 4, alpha: 0 }, kernelTransform: true }, { dataName: 'fashion-mnist-sample', split: { validationFraction: 0.1, seed: 3 }, teacher: null });
  key = trained.meta.key;
});

describe('nas search with "evaluator": "supernet"', () => {
  it('scores candidates by inherited weights, and its front deploys: files that onnxruntime loads, accuracies the supernet gives again', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'supernet-run-')), 'run');
    const config = resolveSearchConfig({
      seed: 3,
      space: SPACE,
      evaluator: 'supernet',
      supernet: key,
      searcher: { algorithm: 'nsga2', population: 6 },
      budget: { generations: 2 },
      latency: { iterations: 20, time: 50 },
      workers: 1,
    });
    const result = await runSearch(config, { runDir: dir });
    const evaluated = result.records.filter((r) => r.state === 'evaluated');
    expect(evaluated.length).toBeGreaterThanOrEqual(6);
    // Every candidate is a subnet: the narrowed space (hswish, no SE in stage 1).
    for (const r of evaluated) expect(r.genome.stages[1]).toMatchObject({ activation: 'hswish', squeezeExcite: false });

    const front = readdirSync(join(dir, 'front'));
    expect(front.length).toBeGreaterThan(0);
    // Files are made for the front alone, when the search ends: candidates/ holds its members and no other subnet.
    expect(front.length).toBeLessThan(evaluated.length);
    expect(readdirSync(join(dir, 'candidates')).sort()).toEqual([...front].sort());
    const data = prepareData(loadDataset('fashion-mnist-sample'), { validationFraction: 0.1, seed: 3 });
    const { meta, weights } = await import('../../train/supernet-cache.js').then((m) => m.requireSupernet(key));
    const source = flatWeightSource(supernetPlan(supernetSpace(SPACE), { numClasses: 10, inputChannels: 1 }), weights, true);
    expect(meta.key).toBe(key);
    for (const id of front) {
      const bytes = readFileSync(join(dir, 'front', id, 'model.onnx'));
      onnxFullCheck(bytes);
      const session = await ort.InferenceSession.create(bytes);
      const r0 = JSON.parse(readFileSync(join(dir, 'front', id, 'genome.json'), 'utf8'));
      const res = r0.genome.resolution;
      const out = await session.run({ input: new ort.Tensor('float32', new Float32Array(2 * res * res), [2, 1, res, res]) });
      expect(out.logits.dims).toEqual([2, 10]);
      await session.release();
      // The journal's accuracy is the supernet's score of that subnet, whoever scores it again: no training noise.
      const record = evaluated.find((r) => r.id === id)!;
      const genome = parseGenome(r0.genome, supernetSpace(SPACE).config);
      const again = await scoreSubnet(source, planNetwork(genome, stridesOf(SPACE), { numClasses: 10, inputChannels: 1 }), { bn: data.train, validation: data.validation, numClasses: 10 }, undefined, true);
      expect(record.accuracy).toBeCloseTo(again.accuracy, 10);
      expect(record.logLikelihood).toBeCloseTo(again.logLikelihood, 10);
    }
    expect(existsSync(join(dir, 'pareto.csv'))).toBe(true);

    // A new supernet run ranks by log-likelihood, written into config.json; its front is the Pareto front of (log-likelihood, latency).
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).config.rankBy).toBe('log-likelihood');
    for (const r of evaluated) expect(r.logLikelihood).toBeLessThan(0);
    const expectedFront = paretoFront(evaluated.map((r) => [-r.logLikelihood!, r.latency.p50])).map((i) => evaluated[i].id);
    expect([...front].sort()).toEqual([...expectedFront].sort());
    const readBack = readRun(dir);
    for (const m of readBack.front) {
      const record = evaluated.find((r) => r.id === m.id)!;
      expect(m.logLikelihood).toBeCloseTo(record.logLikelihood!, 5);
      expect(m.rankScore).toBe(m.logLikelihood);
    }
    // summary.md says what ranked the front.
    const summaryText = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(summaryText).toContain('## Pareto front (validation log-likelihood vs latency p50');
    expect(summaryText).toContain('Validation log-likelihood is what the search optimised');
    // Hypervolume stays in accuracy: the records' (accuracy, latency) points against the stated reference.
    expect(result.hypervolume).toBeCloseTo(hypervolume(evaluated.map((r) => [-r.accuracy, r.latency.p50]), referencePoint(result.config)), 12);

    // nas finalize --init inherited: a front member fine-tuned from its inherited weights ends near them; from scratch it does not.
    const id = front[0];
    const scratchDir = `${dir}-scratch`;
    cpSync(dir, scratchDir, { recursive: true });
    const distanceFromInherited = async (run: string) => {
      const inherited = (await loadCandidateModel(join(run, 'front', id))).getWeights();
      const trained = (await loadCandidateModel(join(run, 'final', id))).getWeights();
      let d = 0;
      let n = 0;
      inherited.forEach((w, i) => {
        const a = w.dataSync();
        const b = trained[i].dataSync();
        for (let j = 0; j < a.length; j++) (d += (a[j] - b[j]) ** 2), (n += a[j] ** 2);
      });
      return Math.sqrt(d / n);
    };
    for (const [run, init] of [[dir, 'inherited'], [scratchDir, 'scratch']] as const) {
      const read = readRun(run);
      const result = await finalizeRun({ ...read, ...runSetting(read.config) }, { ids: [id], baselines: false, epochs: 1, subset: 256, init, workers: 1, latencyTime: 50, latencyIterations: 10 });
      expect(result.recipe.init).toBe(init);
      expect(result.models.map((m) => m.record.id)).toEqual([id]);
    }
    const plan = JSON.parse(readFileSync(join(dir, 'final', 'plan.json'), 'utf8'));
    expect(plan.models[0].inheritFrom).toBe(join(dir, 'front', id));
    expect(plan.recipe.learningRate).toBeCloseTo(0.05 * FINE_TUNE_LEARNING_RATE_SCALE, 12);
    const fineTuned = await distanceFromInherited(dir);
    const scratch = await distanceFromInherited(scratchDir);
    expect(fineTuned).toBeLessThan(0.5 * scratch);

    // bench:supernet --quality: the challenger of MobileNetV2 ×0.35 fine-tuned and trained from scratch, each in its own copy, rows kept.
    const out = mkdtempSync(join(tmpdir(), 'quality-'));
    const quality = { runDir: dir, fineTuneEpochs: [0, 1], scratchEpochs: 1, out, cpu: 'test CPU', log: () => {} };
    const rows = await measureQuality(quality);
    expect(rows.map((r) => r.setting)).toEqual(['inherited-0', 'inherited-1', 'scratch-1']);
    // 0 epochs: the front member's model.onnx as the search left it, which scores on validation what the search journaled.
    expect(rows[0]).toMatchObject({ epochs: 0, train_seconds: 0 });
    expect(rows[0].validation_accuracy).toBeCloseTo(rows[0].search_accuracy, 5);
    const chosen = JSON.parse(readFileSync(join(out, 'quality-challenger.json'), 'utf8'));
    for (const r of rows) {
      expect(r).toMatchObject({ genome_id: chosen.id, epochs: r.setting === 'inherited-0' ? 0 : 1, latency_ms: chosen.latencyMs, baseline_latency_ms: chosen.baselineLatencyMs, cpu: 'test CPU' });
      expect(r.test_accuracy).toBeGreaterThan(0.1);
      // Each trained setting finalized in its own copy of the run; the untrained one needs none.
      expect(existsSync(join(out, 'quality', r.setting, 'final', chosen.id))).toBe(r.setting !== 'inherited-0');
    }
    expect(evaluated.some((r) => r.id === chosen.id)).toBe(true);
    // A rerun trains nothing: the rows come back from the CSV.
    const csvBefore = readFileSync(join(out, 'supernet-quality.csv'), 'utf8');
    expect(await measureQuality(quality)).toEqual(rows);
    expect(readFileSync(join(out, 'supernet-quality.csv'), 'utf8')).toBe(csvBefore);
  });

  it('with "supernet": { "train": … } trains the space\'s supernet first, records its key, and a second search finds it cached', async () => {
    const config = resolveSearchConfig({
      seed: 4,
      space: SPACE,
      evaluator: 'supernet',
      supernet: { train: { epochs: 0.1 } },
      searcher: { algorithm: 'random', population: 4 },
      budget: { evaluations: 4 },
      latency: { iterations: 10, time: 20 },
      workers: 1,
    });
    const run = async () => {
      const dir = join(mkdtempSync(join(tmpdir(), 'supernet-train-run-')), 'run');
      const lines: string[] = [];
      const result = await runSearch(config, { runDir: dir, log: (l) => lines.push(l) });
      const sessions = JSON.parse(readFileSync(join(dir, 'environment.json'), 'utf8')).sessions;
      return { result, lines, key: sessions.at(-1).supernetKey as string };
    };
    const first = await run();
    expect(first.key).toMatch(/^[0-9a-f]{20}$/);
    expect(first.key).not.toBe(key);
    expect(first.lines.some((l) => /^supernet epoch 1\/1 \(sandwich\): loss /.test(l))).toBe(true);
    expect(first.result.records.filter((r) => r.state === 'evaluated').length).toBe(4);
    const { meta } = await import('../../train/supernet-cache.js').then((m) => m.requireSupernet(first.key));
    // The search's data and the split nas supernet train uses by default (seed 0), whatever the search's seed.
    expect(meta.data).toMatchObject({ name: 'fashion-mnist-sample', validationFraction: 0.1, splitSeed: 0 });
    expect(meta.recipe.epochs).toBe(0.1);
    const second = await run();
    expect(second.key).toBe(first.key);
    expect(second.lines).toContain(`supernet ${first.key}: cached`);
    expect(second.lines.some((l) => l.startsWith('supernet epoch'))).toBe(false);
    // nas supernet train, asked for the same supernet, names the same key: a supernet trained by hand is the one the search finds.
    const spaceFile = join(mkdtempSync(join(tmpdir(), 'supernet-space-')), 'space.json');
    writeFileSync(spaceFile, JSON.stringify(SPACE));
    const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'bin.js');
    const dryRun = spawnSync(process.execPath, [cli, 'supernet', 'train', '--data', 'fashion-mnist-sample', '--space', spaceFile, '--epochs', '0.1', '--dry-run'], { encoding: 'utf8', env: process.env });
    expect(dryRun.status, dryRun.stderr).toBe(0);
    expect(dryRun.stdout.trim()).toBe(first.key);
  });

  it("validates on the supernet's split whatever the search's seed, and hands finalize that split and the run's teacher", async () => {
    const root = mkdtempSync(join(tmpdir(), 'supernet-teacher-run-'));
    // A fixed ONNX teacher: its key is a hash of the file and the split; nothing trains it.
    const teacherGenome = { resolution: 28, stemWidth: 8, headWidth: 32, stages: [{ width: 8, activation: 'relu6' as const, squeezeExcite: false, blocks: [{ kernel: 3 as const, expand: 1 }] }] };
    const teacherPlan = planNetwork(teacherGenome, { stem: 2, stages: [2] }, { numClasses: 10, inputChannels: 1 });
    writeFileSync(join(root, 'teacher.onnx'), buildOnnxModel(teacherPlan, randomWeights(teacherPlan)));
    const dir = join(root, 'run');
    const lines: string[] = [];
    // Seed 5: the run's own split would differ from the supernet's (seed 3).
    const config = resolveSearchConfig({ seed: 5, space: SPACE, evaluator: 'supernet', supernet: key, rankBy: 'accuracy', teacher: { onnx: join(root, 'teacher.onnx') }, searcher: { algorithm: 'random', population: 3 }, budget: { evaluations: 3 }, latency: { iterations: 10, time: 20 }, workers: 1 });
    await runSearch(config, { runDir: dir, log: (l) => lines.push(l) });
    const supernetSplit = { validationFraction: 0.1, seed: 3 };
    const expectedTeacher = teacherKey(prepareData(loadDataset('fashion-mnist-sample'), supernetSplit), { kind: 'onnx', path: join(root, 'teacher.onnx') });
    const session = JSON.parse(readFileSync(join(dir, 'environment.json'), 'utf8')).sessions.at(-1);
    expect(session).toMatchObject({ validationSplit: supernetSplit, teacherLogitsKey: expectedTeacher, supernetKey: key });
    // Scoring distils nothing: the teacher is recorded for finalize, not computed.
    expect(lines).toContain(`teacher ${expectedTeacher}: not needed to score subnets; nas finalize distils it (and computes it first)`);
    const read = readRun(dir);
    expect(read.split).toEqual(supernetSplit);
    // "rankBy": "accuracy" stays: the front is over accuracy, and finalize chooses by it, the log-likelihood journaled beside.
    expect(read.config.rankBy).toBe('accuracy');
    for (const m of read.front) expect([m.rankScore, m.logLikelihood! < 0]).toEqual([m.accuracy, true]);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain('Validation accuracy is what the search optimised');
    expect(read.teacherKey).toBe(expectedTeacher);
    const plan = await planFinalization({ ...read, ...runSetting(read.config) }, { ids: [read.front[0].id], baselines: false, epochs: 1, init: 'inherited' }, false);
    expect(plan.split).toEqual(supernetSplit);
    expect(plan.teacherKey).toBe(expectedTeacher);
    expect(plan.recipe.distillation.alpha).toBe(0.9);
  });

  it('scores on the validation split\'s first images and fewer BN images when supernetScoring says so, and the report says which', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'supernet-scoring-run-')), 'run');
    const supernetScoring = { bnImages: 64, validationImages: 40 };
    const config = resolveSearchConfig({ seed: 6, space: SPACE, evaluator: 'supernet', supernet: key, supernetScoring, searcher: { algorithm: 'random', population: 3 }, budget: { evaluations: 3 }, latency: { iterations: 10, time: 20 }, workers: 1 });
    const result = await runSearch(config, { runDir: dir });
    const evaluated = result.records.filter((r) => r.state === 'evaluated');
    expect(evaluated.length).toBe(3);
    const data = prepareData(loadDataset('fashion-mnist-sample'), { validationFraction: 0.1, seed: 3 });
    expect(data.validation.count).toBeGreaterThan(40);
    const { weights } = await import('../../train/supernet-cache.js').then((m) => m.requireSupernet(key));
    const source = flatWeightSource(supernetPlan(supernetSpace(SPACE), { numClasses: 10, inputChannels: 1 }), weights, true);
    const prefix = { ...data.validation, images: data.validation.images.subarray(0, 40 * 28 * 28), labels: data.validation.labels.subarray(0, 40), count: 40 };
    for (const r of evaluated) {
      const plan = planNetwork(r.genome, stridesOf(SPACE), { numClasses: 10, inputChannels: 1 });
      const fewer = await scoreSubnet(source, plan, { bn: data.train, validation: prefix, numClasses: 10 }, 64, true);
      // The journal holds the score on those 40 images with BN from 64: a multiple of 1/40, and the log-likelihood of the same logits.
      expect(r.accuracy).toBeCloseTo(fewer.accuracy, 10);
      expect(r.logLikelihood).toBeCloseTo(fewer.logLikelihood, 10);
      expect(Math.abs(r.accuracy * 40 - Math.round(r.accuracy * 40))).toBeLessThan(1e-9);
    }
    // The default scoring of the same subnets differs (all validation images, BN from 512): the setting reached the scoring threads.
    const plans = evaluated.map((r) => planNetwork(r.genome, stridesOf(SPACE), { numClasses: 10, inputChannels: 1 }));
    const full = await Promise.all(plans.map((plan) => scoreSubnet(source, plan, { bn: data.train, validation: data.validation, numClasses: 10 }, undefined, true)));
    expect(full.map((f) => f.logLikelihood)).not.toEqual(evaluated.map((r) => r.logLikelihood));
    expect(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')).config.supernetScoring).toEqual(supernetScoring);
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toContain("- accuracy: validation, read on the validation split's first 40 images, inherited weights with batch-norm statistics from 64 training images");
    // Only a supernet search scores subnets; a bad size names its field.
    expect(() => resolveSearchConfig({ supernetScoring: { validationImages: 100 } })).toThrow(/config: supernetScoring: is used only with "evaluator": "supernet" \(evaluator is real\)/);
    expect(() => resolveSearchConfig({ evaluator: 'supernet', supernet: key, supernetScoring: { bnImages: 0 } })).toThrow(/supernetScoring\.bnImages: /);
    expect(() => resolveSearchConfig({ evaluator: 'supernet', supernet: key, supernetScoring: { images: 10 } })).toThrow(/supernetScoring\.images: unknown field/);
  });

  it('refuses a space the supernet cannot score, naming the field', () => {
    const wider = structuredClone(SPACE);
    wider.stages[2].widths = [16, 24, 40];
    expect(() => supernetSearchSpace(wider, key)).toThrow(/stages\[2\]\.widths: \[40\] is not held by the supernet/);
    const deeper = structuredClone(SPACE);
    deeper.stages[1].depths = [1, 2, 3];
    expect(() => supernetSearchSpace(deeper, key)).toThrow(/stages\[1\]\.depths/);
  });

  it('refuses a supernet search without a supernet key, and rungs with one', () => {
    expect(() => resolveSearchConfig({ evaluator: 'supernet' })).toThrow(/supernet: "evaluator": "supernet" needs the key/);
    expect(() => resolveSearchConfig({ evaluator: 'supernet', supernet: 'a'.repeat(20), fidelity: {} })).toThrow(/fidelity: /);
    expect(() => resolveSearchConfig({ evaluator: 'supernet', supernet: 'xyz' })).toThrow(/supernet: expected the 20 hex digits/);
  });

  it('ranks by log-likelihood only where scoring records it; a new supernet run gets it, an explicit or older one keeps its choice', () => {
    expect(() => resolveSearchConfig({ evaluator: 'proxy', rankBy: 'log-likelihood' })).toThrow(/config: rankBy: the proxy evaluator's accuracy is a formula/);
    // A real run may rank by it when told; it does not by default.
    expect(objectivesOf(newRunConfig(resolveSearchConfig({ rankBy: 'log-likelihood' })))).toEqual(['logLikelihood', 'latency']);
    expect(() => resolveSearchConfig({ rankBy: 'loss' })).toThrow(/rankBy: /);
    const supernet = resolveSearchConfig({ evaluator: 'supernet', supernet: 'a'.repeat(20) });
    // Absent stays absent when read back (a run made before rankBy keeps its hash, and ranks by accuracy)…
    expect(supernet.rankBy).toBeUndefined();
    expect(objectivesOf(supernet)).toEqual(['accuracy', 'latency']);
    // …and a new run writes the supernet default out.
    expect(newRunConfig(supernet).rankBy).toBe('log-likelihood');
    expect(objectivesOf(newRunConfig(supernet))).toEqual(['logLikelihood', 'latency']);
    expect(newRunConfig({ ...supernet, rankBy: 'accuracy' }).rankBy).toBe('accuracy');
    expect(newRunConfig(resolveSearchConfig({})).rankBy).toBeUndefined();
    expect(objectivesOf(resolveSearchConfig({ evaluator: 'supernet', supernet: 'a'.repeat(20), rankBy: 'log-likelihood', thirdObjective: 'params' }))).toEqual(['logLikelihood', 'latency', 'params']);
  });

  it('points: log-likelihood negated where it ranks, an error naming the candidate where it is missing', () => {
    const record = { id: 'abc', state: 'evaluated', accuracy: 0.9, logLikelihood: -0.25, latency: { p50: 1, p90: 1.2, source: 'measured' }, params: 10, macs: 20 } as unknown as EvaluatedRecord;
    expect(pointOf(record, ['logLikelihood', 'latency', 'params'])).toEqual([0.25, 1, 10]);
    expect(pointOf(record, ['accuracy', 'latency'])).toEqual([-0.9, 1]);
    expect(() => pointOf({ ...record, logLikelihood: undefined }, ['logLikelihood', 'latency'])).toThrow(/candidate abc: its record has no logLikelihood, and the run ranks by it/);
    expect(hypervolumeObjectives(['logLikelihood', 'latency', 'macs'])).toEqual(['accuracy', 'latency', 'macs']);
  });
});
