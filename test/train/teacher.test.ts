import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOnnxModel, tfjsWeights } from '../../space/build-onnx.js';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { OnnxGraphBuilder } from '../../onnx/graph-builder.js';
import { MobileNetSpace } from '../../space/space.js';
import { selectBackend } from '../../train/backend.js';
import { prepareData } from '../../train/datasets/prepared.js';
import { accuracyFromLogits, predictLogits } from '../../train/evaluate.js';
import { adaptBatch, planOnnxInput } from '../../train/input-adapter.js';
import { TeacherError, teacherKey, teacherLogits, type TeacherSpec } from '../../train/teacher.js';
import { baseline } from '../../space/baselines.js';
import type { TeacherArchitecture } from '../../train/teacher-types.js';
import { teacherArchitecture, teacherGenome, teacherTrainOptions, trainedTeacherSpec } from '../../train/trained-teacher.js';
import type { Dataset, ImageSet } from '../../train/types.js';
import { relativeError } from '../helpers.js';

function imageSet(count: number, seed: string): ImageSet {
  const rng = seedrandom(seed);
  return {
    pixels: Uint8Array.from({ length: count * 28 * 28 }, () => Math.floor(rng() * 256)),
    labels: Int32Array.from({ length: count }, () => Math.floor(rng() * 10)),
    count,
    height: 28,
    width: 28,
    channels: 1,
  };
}
const dataset = (seed: string): Dataset => ({
  name: 'synthetic',
  source: 'memory',
  numClasses: 10,
  classNames: Array.from({ length: 10 }, (_, i) => String(i)),
  train: imageSet(150, `${seed}-train`),
  test: imageSet(40, `${seed}-test`),
});

beforeAll(async () => {
  process.env.NAS_CACHE_DIR = mkdtempSync(join(tmpdir(), 'cache-'));
  await selectBackend('wasm');
});

describe('ONNX teacher', () => {
  const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });

  it('an NCHW model exported here: logits equal the tfjs model\'s, then come from the cache', async () => {
    const data = prepareData(dataset('a'));
    const genome = space.sample(seedrandom('teacher'));
    genome.resolution = 28;
    const model = buildTfjsModel(space.plan(genome), 1);
    const path = join(mkdtempSync(join(tmpdir(), 'teacher-')), 'teacher.onnx');
    writeFileSync(path, buildOnnxModel(space.plan(genome), tfjsWeights(model)));

    const first = await teacherLogits(data, { kind: 'onnx', path });
    expect(first.fromCache).toBe(false);
    expect(first.classes).toBe(10);
    expect(first.logits.length).toBe(150 * 10);
    expect(relativeError(first.logits, predictLogits(model, data.fullTrain()))).toBeLessThan(1e-4);
    expect(first.testAccuracy).toBeCloseTo(accuracyFromLogits(predictLogits(model, data.test), data.test.labels, 10), 6);

    const second = await teacherLogits(data, { kind: 'onnx', path });
    expect(second.fromCache).toBe(true);
    expect(Array.from(second.logits)).toEqual(Array.from(first.logits));
    // Not trained here: no training time to report.
    expect([first.trainSeconds, first.trainedOn, second.trainSeconds]).toEqual([null, null, null]);

    // Other data, other key: stale logits are never reused.
    const other = prepareData(dataset('b'));
    expect(teacherKey(other, { kind: 'onnx', path })).not.toBe(first.key);
    expect(teacherKey(data, { kind: 'onnx', path, inputScale: 'unit' })).not.toBe(first.key);
  });

  it('a trained teacher on two threads has another cache key; on one thread, the key it always had', () => {
    const data = prepareData(dataset('a'));
    const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
    const one = trainedTeacherSpec(space, 3, 28, 0);
    const two = trainedTeacherSpec(space, 3, 28, 0, 2);
    expect('threads' in one).toBe(false);
    expect(two).toMatchObject({ kind: 'trained', threads: 2 });
    expect(teacherKey(data, two)).not.toBe(teacherKey(data, one));
    expect(teacherKey(data, { ...one, threads: 1 } as TeacherSpec)).toBe(teacherKey(data, one));
  });

  it('a trained teacher\'s architecture: MobileNetV3-small by default, the widest genome or a baseline by name, each with its own key', () => {
    const data = prepareData(dataset('a'));
    const widest = trainedTeacherSpec(space, 3, 28, 0, 1, 'widest');
    const v3 = trainedTeacherSpec(space, 3, 28, 0, 1, 'mobilenetv3-small');
    if (widest.kind !== 'trained' || v3.kind !== 'trained') throw new Error('expected trained specs');
    expect(trainedTeacherSpec(space, 3, 28, 0)).toEqual(v3);
    expect(widest.architecture).toBe('widest');
    expect(widest.genome).toEqual(teacherGenome(SMALL_IMAGE_SPACE, 28));
    // The baseline's own genome and strides, adapted to 28 px (three stride-2 layers).
    const b = baseline('mobilenetv3-small', 28);
    if (b.kind !== 'genome') throw new Error('expected a genome baseline');
    expect(v3.genome).toEqual(b.genome);
    expect(v3.strides).toEqual(b.strides);
    expect([v3.strides.stem, ...v3.strides.stages].filter((s) => s === 2)).toHaveLength(3);
    expect(teacherKey(data, v3)).not.toBe(teacherKey(data, widest));
    // The name is for messages only: the key is the architecture's.
    expect(teacherKey(data, { ...v3, architecture: 'renamed' })).toBe(teacherKey(data, v3));
    expect(() => teacherArchitecture('resnet18' as TeacherArchitecture, SMALL_IMAGE_SPACE, 28)).toThrow(/teacher architecture must be one of widest, .*got 'resnet18'/);
  });

  it('a teacher trains on cross-entropy alone, without label smoothing', () => {
    const options = teacherTrainOptions({ epochs: 4 }, 3, 2);
    expect(options).toMatchObject({ budget: { epochs: 4 }, seed: 3, threads: 2, labelSmoothing: 0, distillation: { alpha: 0 } });
  });

  it('an NHWC model ending in softmax: probabilities become log-probabilities', async () => {
    const data = prepareData(dataset('c'));
    // logits = flatten(x) · W, then Softmax; W picks pixel k for class k.
    const g = new OnnxGraphBuilder();
    g.fresh('input');
    const w = new Float32Array(784 * 10);
    for (let k = 0; k < 10; k++) w[k * 10 + k] = 1;
    const flat = g.op('Flatten', ['input'], 'flat');
    const z = g.op('Gemm', [flat, g.float('w', [784, 10], w), g.float('b', [10], new Float32Array(10))], 'z');
    g.node({ op: 'Softmax', inputs: [z], outputs: ['probs'], attributes: { axis: 1 } });
    const path = join(mkdtempSync(join(tmpdir(), 'teacher-')), 'nhwc.onnx');
    writeFileSync(path, g.toBytes({ graphName: 'nhwc', input: { name: 'input', shape: ['batch', 28, 28, 1] }, output: { name: 'probs', shape: ['batch', 10] } }));

    const result = await teacherLogits(data, { kind: 'onnx', path, inputScale: 'unit' });
    // In unit scale pixel k of image i is pixels[i·784 + k] / 255; log-softmax differences equal logit differences.
    const i = 7;
    const px = (k: number) => dataset('c').train.pixels[i * 784 + k] / 255;
    const row = result.logits.subarray(i * 10, i * 10 + 10);
    expect(row[3] - row[0]).toBeCloseTo(px(3) - px(0), 4);
    expect(row[9] - row[5]).toBeCloseTo(px(9) - px(5), 4);
  });

  it('a teacher whose classes do not match the data is refused', async () => {
    const data = prepareData(dataset('d'));
    const g = new OnnxGraphBuilder();
    g.fresh('input');
    const flat = g.op('Flatten', ['input'], 'flat');
    g.node({ op: 'Gemm', inputs: [flat, g.float('w', [784, 5], new Float32Array(784 * 5)), g.float('b', [5], new Float32Array(5))], outputs: ['logits'] });
    const path = join(mkdtempSync(join(tmpdir(), 'teacher-')), 'five.onnx');
    writeFileSync(path, g.toBytes({ graphName: 'five', input: { name: 'input', shape: ['batch', 1, 28, 28] }, output: { name: 'logits', shape: ['batch', 5] } }));
    await expect(teacherLogits(data, { kind: 'onnx', path })).rejects.toThrow(/five\.onnx: output has 5 classes but the data have 10/);
  });

  it('a file that is not ONNX is named', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'teacher-')), 'junk.onnx');
    writeFileSync(path, 'junk');
    await expect(teacherLogits(prepareData(dataset('e')), { kind: 'onnx', path })).rejects.toThrow(TeacherError);
    await expect(teacherLogits(prepareData(dataset('e')), { kind: 'onnx', path })).rejects.toThrow(/junk\.onnx: not a model onnxruntime can load/);
  });
});

describe('input layout of an ONNX teacher', () => {
  it('reads NCHW, NHWC, fixed and symbolic sizes', () => {
    expect(planOnnxInput(['batch', 3, 224, 224])).toEqual({ layout: 'NCHW', channels: 3, height: 224, width: 224, batch: null });
    expect(planOnnxInput([1, 32, 32, 3])).toEqual({ layout: 'NHWC', channels: 3, height: 32, width: 32, batch: 1 });
    expect(planOnnxInput(['N', 1, 'H', 'W'])).toEqual({ layout: 'NCHW', channels: 1, height: null, width: null, batch: null });
    expect(() => planOnnxInput([1, 10])).toThrow(/expected an image batch of rank 4/);
    expect(() => planOnnxInput([1, 5, 5, 5])).toThrow(/cannot tell channels/);
  });
});

describe('adapting a batch to a foreign model', () => {
  // A 2×2 grey image whose pixels in [0, 1] are 0, 0.5 / 1, 0.25, stored as our
  // data stores it (standardised with mean 0.3, std 0.2).
  const normalisation = { mean: [0.3], std: [0.2] };
  const unit = [0, 0.5, 1, 0.25];
  const split = { images: Float32Array.from(unit, (u) => (u - 0.3) / 0.2), labels: new Int32Array(1), count: 1, height: 2, width: 2, channels: 1 };
  // Bilinear 2×2 → 3×3 with aligned corners, worked by hand: corners kept, edges the
  // mean of two neighbours, the centre the mean of all four.
  const resized = [0, 0.25, 0.5, 0.5, 0.4375, 0.375, 1, 0.625, 0.25];
  const imagenet = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
  const expected = (c: number, p: number) => (resized[p] - imagenet.mean[c]) / imagenet.std[c];

  it('resizes, replicates the channel and applies ImageNet scaling (NCHW)', () => {
    const out = adaptBatch(split, 0, 1, { layout: 'NCHW', channels: 3, height: 3, width: 3, batch: null }, { normalisation }, 'imagenet');
    expect(out.length).toBe(27);
    for (let c = 0; c < 3; c++) for (let p = 0; p < 9; p++) expect(out[c * 9 + p]).toBeCloseTo(expected(c, p), 5);
  });

  it('writes the same values channel-last (NHWC), and raw and unit scales', () => {
    const nhwc = adaptBatch(split, 0, 1, { layout: 'NHWC', channels: 3, height: 3, width: 3, batch: null }, { normalisation }, 'imagenet');
    for (let c = 0; c < 3; c++) for (let p = 0; p < 9; p++) expect(nhwc[p * 3 + c]).toBeCloseTo(expected(c, p), 5);
    const grey = { layout: 'NCHW' as const, channels: 1, height: 3, width: 3, batch: null };
    const raw = adaptBatch(split, 0, 1, grey, { normalisation }, 'raw');
    resized.forEach((v, p) => expect(raw[p]).toBeCloseTo(v * 255, 3));
    const same = adaptBatch(split, 0, 1, { ...grey, height: 2, width: 2 }, { normalisation }, 'unit');
    unit.forEach((v, p) => expect(same[p]).toBeCloseTo(v, 6));
  });

  it('averages three channels for a grey model', () => {
    const rgb = { images: Float32Array.from([0.1, 0.2, 0.6]), labels: new Int32Array(1), count: 1, height: 1, width: 1, channels: 3 };
    const out = adaptBatch(rgb, 0, 1, { layout: 'NCHW', channels: 1, height: 1, width: 1, batch: null }, { normalisation: { mean: [0, 0, 0], std: [1, 1, 1] } }, 'imagenet');
    expect(out[0]).toBeCloseTo((0.3 - 0.449) / 0.226, 6);
  });
});
