import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { adaptedBatches, modelInput } from '../../compress/calibration-data.js';
import { onnxAccuracy, type AccuracyResult } from '../../compress/onnx-eval.js';
import { decodeModel } from '../../onnx/model.js';
import { quantizeFile } from '../../compress/quantize-file.js';
import { activationParams, optimisedOpTypes, quantizeModel, quantizeWeights } from '../../onnx/quantize.js';
import { buildOnnxModel, tfjsWeights } from '../../space/build-onnx.js';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, withTrainingSubset, type PreparedData } from '../../train/datasets/prepared.js';
import { trainCandidate } from '../../train/distill.js';
import { onnxFullCheck } from '../helpers.js';

const genome: Genome = {
  resolution: 28,
  stemWidth: 16,
  headWidth: 128,
  stages: [
    { width: 16, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 1 }] },
    { width: 24, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 4 }, { kernel: 5, expand: 4 }] },
    { width: 40, activation: 'hswish', squeezeExcite: true, blocks: [{ kernel: 3, expand: 4 }] },
    { width: 64, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 4 }] },
  ],
};
let data: PreparedData;
const accuracy = (r: AccuracyResult | null) => {
  if (r?.state !== 'measured') throw new Error(`accuracy not measured: ${JSON.stringify(r)}`);
  return r.accuracy;
};
let fp32Path: string;

beforeAll(async () => {
  await selectBackend('wasm');
  data = prepareData(loadDataset());
  const model = buildTfjsModel(planNetwork(genome, { stem: 1, stages: [1, 2, 2, 2] }, { numClasses: 10, inputChannels: 1 }), 3);
  await trainCandidate(model, withTrainingSubset(data, 2000, 0), null, { budget: { epochs: 2 }, evaluateTest: false });
  fp32Path = join(mkdtempSync(join(tmpdir(), 'quant-')), 'model.onnx');
  writeFileSync(fp32Path, buildOnnxModel(planNetwork(genome, { stem: 1, stages: [1, 2, 2, 2] }, { numClasses: 10, inputChannels: 1 }), tfjsWeights(model)));
});

describe('quantization maths', () => {
  it('uint8 activations cover the range and zero exactly', () => {
    expect(activationParams(0, 6)).toEqual({ scale: 6 / 255, zeroPoint: 0 });
    const p = activationParams(-1, 3);
    expect(p.scale).toBeCloseTo(4 / 255, 12);
    expect(p.zeroPoint).toBe(64); // round(1 / (4/255)) = round(63.75)
    expect(activationParams(0.5, 2).zeroPoint).toBe(0); // the range is widened to include 0
  });

  it('int8 weights are symmetric per output channel', () => {
    // two channels on axis 0, three values each
    const { q, scales } = quantizeWeights(Float32Array.from([0.5, -1, 0.25, 2, 1, -0.5]), [2, 3], 0);
    expect(Array.from(scales)).toEqual([1 / 127, 2 / 127].map(Math.fround));
    expect(Array.from(q)).toEqual([64, -127, 32, 127, 64, -32]);
  });

  it('7-bit weights (reduce range) keep u8×s8 pair sums inside int16, so AVX2 without VNNI cannot saturate', () => {
    const { q, scales } = quantizeWeights(Float32Array.from([0.4, -1, 0.2, 2, 0.8, -1.2]), [2, 3], 0, 63);
    expect(Array.from(scales)).toEqual([1 / 63, 2 / 63].map(Math.fround));
    expect(Array.from(q)).toEqual([25, -63, 13, 63, 25, -38]);
    // VPMADDUBSW adds two u8·s8 products into an int16
    expect(2 * 255 * 63).toBeLessThanOrEqual(32767);
    expect(2 * 255 * 127).toBeGreaterThan(32767);
  });
});

describe('INT8 QDQ model of a trained candidate', () => {
  it('is valid ONNX, runs as QLinear kernels in onnxruntime, is about a quarter of the size and keeps accuracy', async () => {
    // measure: false takes the quantize-everything variant, so the test does not depend on this CPU's timings;
    // the accuracy gate is this test's own limit (1.5 points on 1,000 test images of a briefly trained net).
    const r = await quantizeFile(fp32Path, { measure: false, maxAccuracyDrop: 1.5 }, data);
    expect(r.choice.state, JSON.stringify(r.choice)).toBe("int8");
    const int8 = readFileSync(r.output!);
    onnxFullCheck(int8);
    expect(r.opTypes.QLinearConv).toBe(18); // every conv: stem 1, blocks 2+3+3+3+3, SE 2, head 1
    expect(r.opTypes.Conv ?? 0).toBe(0);
    expect(r.qlinearOps).toBeGreaterThanOrEqual(16);
    // Small nets pay per-channel scales and int32 biases on every depthwise channel: measured 0.42 here.
    expect(r.int8Bytes / r.fp32Bytes).toBeLessThan(0.45);
    expect(accuracy(r.fp32Accuracy)).toBeGreaterThan(0.7);
    expect(Math.abs(accuracy(r.int8Accuracy) - accuracy(r.fp32Accuracy))).toBeLessThan(0.015);
    const weights = decodeModel(int8, r.output!).graph!.initializer!.filter((t) => t.dataType === 3 && !t.name!.endsWith('_zero_point')); // INT8
    expect(weights.length).toBe(19); // 18 convs and the classifier
    // By default every weight is 7-bit, which is what makes accuracy the same on every x86 CPU.
    for (const w of weights) for (const v of new Int8Array(w.rawData!.buffer, w.rawData!.byteOffset, w.rawData!.byteLength)) expect(Math.abs(v)).toBeLessThanOrEqual(63);
  });

  it('percentile calibration also keeps accuracy', async () => {
    const fp32 = readFileSync(fp32Path);
    const { plan } = modelInput(fp32, 'model');
    const { bytes, report } = await quantizeModel(fp32, 'model', await adaptedBatches(data.train, 128, plan, data, 'standardised'), { method: 'percentile', percentile: 99.9 });
    expect(report.calibrationImages).toBe(128);
    const acc = accuracy(await onnxAccuracy(bytes, data.test, plan, data));
    expect(Math.abs(acc - accuracy(await onnxAccuracy(fp32, data.test, plan, data)))).toBeLessThan(0.03);
    expect((await optimisedOpTypes(bytes)).QLinearConv).toBe(18);
  });

  it('a model that is not there, or not ONNX, is named', async () => {
    await expect(quantizeFile('/nope/model.onnx', {}, data)).rejects.toThrow('/nope/model.onnx: file not found');
    const junk = join(mkdtempSync(join(tmpdir(), 'quant-')), 'junk.onnx');
    writeFileSync(junk, 'junk');
    await expect(quantizeFile(junk, {}, data)).rejects.toThrow(/junk\.onnx: not an ONNX model/);
  });
});
