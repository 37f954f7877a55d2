import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOnnxModel, tfjsWeights } from '../../space/build-onnx.js';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { baseline, makeDivisible, mobileNetV2, strideTwoLayers } from '../../space/baselines.js';
import { planCost, planNetwork } from '../../space/plan.js';
import { buildPlainCnnOnnx, buildPlainCnnTfjs, plainCnnCost, plainCnnSpec } from '../../space/plain-cnn.js';
import { selectBackend } from '../../train/backend.js';
import { onnxFullCheck, relativeError, seededArray } from '../helpers.js';

const data = { numClasses: 10, inputChannels: 1 };

/** Random weights with positive BN variances, so folding is exercised. */
function randomise(model: tf.LayersModel | ReturnType<typeof buildTfjsModel>, seed: string): void {
  const rng = seedrandom(seed);
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (!weights.length) continue;
    const isBn = layer.getClassName() === 'BatchNormalization';
    layer.setWeights(weights.map((w, k) => tf.tensor(Float32Array.from({ length: w.size }, () => (isBn && (k === 0 || k === 3) ? 0.5 + rng() : (rng() - 0.5) * 0.4)), w.shape)));
  }
}

async function onnxLogits(bytes: Uint8Array, nhwc: Float32Array, batch: number, r: number): Promise<Float32Array> {
  const nchw = tf.tidy(() => tf.transpose(tf.tensor4d(nhwc, [batch, r, r, 1]), [0, 3, 1, 2]).dataSync() as Float32Array);
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ input: new ort.Tensor('float32', nchw, [batch, 1, r, r]) });
  await session.release();
  return out.logits.data as Float32Array;
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('hand-designed baselines', () => {
  it('MobileNet width rounding and resolution adaptation against hand-computed values', () => {
    expect([makeDivisible(32 * 0.35), makeDivisible(16 * 0.35), makeDivisible(24 * 0.5), makeDivisible(320 * 0.75)]).toEqual([16, 8, 16, 240]);
    expect([strideTwoLayers(28), strideTwoLayers(32), strideTwoLayers(64), strideTwoLayers(224)]).toEqual([3, 3, 4, 5]);
    const v2 = mobileNetV2(1, 224);
    expect(v2.strides).toEqual({ stem: 2, stages: [1, 2, 2, 2, 1, 2, 1] });
    // MobileNetV2 ×1.0 at 224: 3.4 M parameters and 300 M MACs in the paper (1000 classes, BN not counted).
    const cost = planCost(planNetwork(v2, v2.strides, { numClasses: 1000, inputChannels: 3 }));
    expect(cost.macs / 1e6).toBeGreaterThan(295);
    expect(cost.macs / 1e6).toBeLessThan(310);
    expect(mobileNetV2(0.35, 28).strides).toEqual({ stem: 1, stages: [1, 1, 2, 2, 1, 2, 1] });
  });

  it('the plain CNN: its ONNX computes what its tfjs model computes, and its analytic cost is tfjs\'s', async () => {
    const spec = plainCnnSpec(28);
    const model = buildPlainCnnTfjs(spec, data, 3);
    expect(plainCnnCost(spec, data).params).toBe(model.countParams());
    expect(plainCnnCost(spec, data).params).toBe(83_754);
    randomise(model, 'cnn');
    const bytes = buildPlainCnnOnnx(spec, data, tfjsWeights(model));
    onnxFullCheck(bytes);
    const x = seededArray(3 * 28 * 28, 'cnn-x');
    const expected = tf.tidy(() => (model.predict(tf.tensor4d(x, [3, 28, 28, 1])) as tf.Tensor).dataSync() as Float32Array);
    expect(relativeError(await onnxLogits(bytes, x, 3, 28), expected)).toBeLessThan(1e-4);
  });

  it('MobileNetV3-small as a genome (hidden widths, SE, hard-swish) exports to ONNX that matches tfjs', async () => {
    const b = baseline('mobilenetv3-small', 28);
    if (b.kind !== 'genome') throw new Error('expected a genome');
    const plan = planNetwork(b.genome, b.strides, data);
    const model = buildTfjsModel(plan, 2);
    expect(planCost(plan).params).toBe(model.countParams());
    randomise(model, 'v3');
    const bytes = buildOnnxModel(plan, tfjsWeights(model));
    onnxFullCheck(bytes);
    const x = seededArray(2 * 28 * 28, 'v3-x');
    const expected = tf.tidy(() => (model.predict(tf.tensor4d(x, [2, 28, 28, 1])) as tf.Tensor).dataSync() as Float32Array);
    expect(relativeError(await onnxLogits(bytes, x, 2, 28), expected)).toBeLessThan(1e-4);
  });
});
