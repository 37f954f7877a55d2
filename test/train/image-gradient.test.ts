import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import { selectBackend } from '../../train/backend.js';
import { stemFilter, withoutImageGradient } from '../../train/kernels/image-gradient.js';
import { seededArray } from '../helpers.js';
import { TINY_GENOME, TINY_STRIDES } from './tiny-network.js';

beforeAll(async () => {
  expect((await selectBackend('wasm')).simdKernels).toBe('enabled');
});

const model = () => buildTfjsModel(planNetwork(TINY_GENOME, TINY_STRIDES, { numClasses: 10, inputChannels: 1 }), 3);
const images = () => tf.tensor4d(seededArray(4 * 28 * 28, 'image-gradient:x'), [4, 28, 28, 1]);
const labels = () => tf.oneHot(tf.tensor1d([1, 4, 7, 9], 'int32'), 10);

describe("the stem's gradient with respect to the images is skipped in training steps", () => {
  it('leaves every weight gradient exactly as computed with it', () => {
    const net = model();
    const variables = net.trainableWeights.map((w) => w.read() as tf.Variable);
    const gradients = () =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels(), net.apply(images(), { training: true }) as tf.Tensor) as tf.Scalar, variables);
        return variables.map((v) => grads[v.name].dataSync() as Float32Array);
      });
    const full = gradients();
    const skipped = withoutImageGradient(stemFilter(net), gradients);
    expect(skipped.map((g) => Array.from(g))).toEqual(full.map((g) => Array.from(g)));
  });

  it('is zeros inside withoutImageGradient and the real gradient outside it', () => {
    const net = model();
    const inputGradient = () => tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(net.apply(x, { training: true }) as tf.Tensor))(images()).dataSync() as Float32Array);
    const outside = inputGradient();
    const inside = withoutImageGradient(stemFilter(net), inputGradient);
    expect(outside.some((v) => v !== 0)).toBe(true);
    expect(inside.every((v) => v === 0)).toBe(true);
    // The mark ends with the step.
    expect(inputGradient()).toEqual(outside);
  });

  it('marks nothing when the first trainable layer is not a convolution', () => {
    const dense = tfl.sequential({ layers: [tfl.layers.flatten({ inputShape: [28, 28, 1] }), tfl.layers.dense({ units: 10 })] });
    expect(stemFilter(dense)).toBeNull();
    expect(stemFilter(model())).not.toBeNull();
  });
});
