import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, withTrainingSubset } from '../../train/datasets/prepared.js';
import { trainCandidate } from '../../train/distill.js';
import { accuracyFromLogits, tfjsEvaluator } from '../../train/evaluate.js';
import { nhwcToNchw, onnxEvaluator } from '../../train/onnx-evaluate.js';
import { relativeError, seededArray } from '../helpers.js';

const strides = { stem: 1, stages: [1, 2, 2, 2] };
const genome = (resolution: number): Genome => ({
  resolution,
  stemWidth: 8,
  headWidth: 64,
  stages: [
    { width: 8, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 1 }] },
    { width: 16, activation: 'hswish', squeezeExcite: true, blocks: [{ kernel: 5, expand: 3 }] },
    { width: 24, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 3 }, { kernel: 3, expand: 3 }] },
    { width: 32, activation: 'hswish', squeezeExcite: true, blocks: [{ kernel: 3, expand: 4 }] },
  ],
});

/** Top-1 class of each row. */
function predictions(logits: Float32Array, classes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < logits.length; i += classes) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i + k] > logits[i + best]) best = k;
    out.push(best);
  }
  return out;
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('evaluation through onnxruntime', () => {
  // 28 px is the data's size; 24 px goes through the same resize as training.
  it.each([28, 24])('gives the tfjs model\'s predictions on the bundled sample at %i px', async (resolution) => {
    const data = withTrainingSubset(prepareData(loadDataset()), 1280, 0);
    const plan = planNetwork(genome(resolution), strides, { numClasses: 10, inputChannels: 1 });
    const model = buildTfjsModel(plan, 3);
    // One epoch on 1,280 images in batches of 16: enough steps for BN's moving statistics to settle.
    const trained = await trainCandidate(model, data, null, { budget: { images: 1280 }, batchSize: 16, optimizer: 'adam', seed: 1, evaluator: onnxEvaluator(plan) });

    const [tfVal, tfTest] = await tfjsEvaluator.logits(model, [data.validation, data.test]);
    const [ortVal, ortTest] = await onnxEvaluator(plan).logits(model, [data.validation, data.test]);
    expect(ortTest.length).toBe(1000 * 10);
    expect(relativeError(ortVal, tfVal)).toBeLessThan(1e-4);
    expect(relativeError(ortTest, tfTest)).toBeLessThan(1e-4);
    expect(predictions(ortTest, 10)).toEqual(predictions(tfTest, 10));
    expect(predictions(ortVal, 10)).toEqual(predictions(tfVal, 10));
    // trainCandidate's accuracies came through onnxruntime; they equal tfjs's.
    expect(trained.validationAccuracy).toBe(accuracyFromLogits(tfVal, data.validation.labels, 10));
    expect(trained.testAccuracy).toBe(accuracyFromLogits(tfTest, data.test.labels, 10));
    // Predictions spread over classes, so their agreement is not that of a constant.
    expect(new Set(predictions(tfTest, 10)).size).toBeGreaterThanOrEqual(5);
    model.dispose();
  });

  it('NHWC → NCHW matches a tfjs transpose for three channels', () => {
    const src = seededArray(2 * 3 * 5 * 3, 'layout');
    const expected = tf.tidy(() => tf.transpose(tf.tensor4d(src, [2, 3, 5, 3]), [0, 3, 1, 2]).dataSync());
    expect(Array.from(nhwcToNchw(src, 2, 3, 5, 3))).toEqual(Array.from(expected));
  });
});
