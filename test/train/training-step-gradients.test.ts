import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../train/backend.js';
import { useFusedBatchNorm } from '../../space/fused-batch-norm.js';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import type { Genome } from '../../space/types.js';
import { seededArray } from '../helpers.js';

// Every kernel size, stride 2, SE, hard-swish, a residual add, and channel
// counts both on (multiples of 4) and off the SIMD path.
const genome: Genome = {
  resolution: 12,
  stemWidth: 8,
  stages: [
    { width: 8, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 1 }, { kernel: 5, expand: 3 }] },
    { width: 12, activation: 'hswish', squeezeExcite: true, blocks: [{ kernel: 7, expand: 3 }] },
    { width: 10, activation: 'relu6', squeezeExcite: true, blocks: [{ kernel: 5, expand: 3 }] },
  ],
  headWidth: 24,
};
const plan = planNetwork(genome, { stem: 1, stages: [1, 2, 2] }, { numClasses: 5, inputChannels: 3 });

/**
 * Error of each gradient relative to its own scale, floored at 1e-2 of the
 * largest gradient: some are zero in exact arithmetic (the beta of a BN that
 * feeds conv → BN is cancelled by the next normalisation) and hold only noise.
 */
function worstGradientError(actual: Grad[], reference: Grad[]) {
  const globalScale = Math.max(...reference.map((g) => Math.max(...g.values.map(Math.abs))));
  let worst = { name: '', err: 0 };
  reference.forEach((ref, i) => {
    const scale = Math.max(Math.max(...ref.values.map(Math.abs)), 1e-2 * globalScale);
    let maxDiff = 0;
    ref.values.forEach((v, j) => (maxDiff = Math.max(maxDiff, Math.abs(v - actual[i].values[j]))));
    if (maxDiff / scale > worst.err) worst = { name: ref.name, err: maxDiff / scale };
  });
  return worst;
}
type Grad = { name: string; values: Float32Array };

/** Loss and every trainable weight's gradient after one training-mode forward pass. */
async function gradientsOn(backend: 'wasm' | 'cpu', fused: boolean) {
  await selectBackend(backend);
  useFusedBatchNorm(fused);
  const model = buildTfjsModel(plan, 7);
  const x = tf.tensor4d(seededArray(6 * 12 * 12 * 3, 'step-x'), [6, 12, 12, 3]);
  const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32'), 5);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor) as tf.Scalar,
    vars,
  );
  const result = {
    loss: value.dataSync()[0],
    grads: model.trainableWeights.map((w) => ({ name: w.originalName, values: grads[w.read().name].dataSync() as Float32Array })),
  };
  tf.dispose([x, labels, value, grads]);
  model.dispose();
  return result;
}

describe('a whole training step on wasm gives the cpu backend\'s gradients', () => {
  let reference: Awaited<ReturnType<typeof gradientsOn>>;
  beforeAll(async () => {
    reference = await gradientsOn('cpu', false); // stock tfjs maths throughout
  });
  afterAll(() => useFusedBatchNorm(true));

  it('wasm with the SIMD kernels and fused batch norm', async () => {
    const actual = await gradientsOn('wasm', true);
    expect(Math.abs(actual.loss - reference.loss)).toBeLessThan(1e-4);
    expect(actual.grads.map((g) => g.name)).toEqual(reference.grads.map((g) => g.name));
    const worst = worstGradientError(actual.grads, reference.grads);
    expect(worst.err, `worst gradient: ${worst.name}`).toBeLessThan(1e-4);
  });

  it('cpu with the fused batch norm (JavaScript loops)', async () => {
    const actual = await gradientsOn('cpu', true);
    const worst = worstGradientError(actual.grads, reference.grads);
    expect(worst.err, `worst gradient: ${worst.name}`).toBeLessThan(1e-4);
  });
});
