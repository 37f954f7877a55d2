/** Inference over a whole split: logits, and top-1 accuracy from them. */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { EVAL_BATCH_SIZE } from './constants.js';
import type { SplitEvaluator, TensorSplit } from './types.js';

/** Resizes a batch to the model's input resolution when the data differ. */
export function toResolution(batch: tf.Tensor4D, resolution: number): tf.Tensor4D {
  if (batch.shape[1] === resolution && batch.shape[2] === resolution) return batch;
  return tf.image.resizeBilinear(batch, [resolution, resolution], true);
}

/** Logits of every image of a split, [count × classes], in inference mode. */
export function predictLogits(model: LayersModel, split: TensorSplit, batchSize = EVAL_BATCH_SIZE): Float32Array {
  const resolution = model.inputs[0].shape[1] as number;
  const classes = model.outputs[0].shape[1] as number;
  const out = new Float32Array(split.count * classes);
  const size = split.height * split.width * split.channels;
  for (let start = 0; start < split.count; start += batchSize) {
    const n = Math.min(batchSize, split.count - start);
    const logits = tf.tidy(() => {
      const x = tf.tensor4d(split.images.subarray(start * size, (start + n) * size), [n, split.height, split.width, split.channels]);
      return model.predict(toResolution(x, resolution)) as tf.Tensor;
    });
    out.set(logits.dataSync(), start * classes);
    logits.dispose();
  }
  return out;
}

/** Share of rows whose largest logit is at the label. */
export function accuracyFromLogits(logits: Float32Array, labels: Int32Array, classes: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[i * classes + k] > logits[i * classes + best]) best = k;
    if (best === labels[i]) correct++;
  }
  return labels.length ? correct / labels.length : 0;
}

/**
 * Mean log-probability (natural log, ≤ 0) that the softmax of `logits` gives
 * each image's true class: the negative of the cross-entropy. A continuous
 * score, it moves with every image's margin where top-1 accuracy moves only
 * when a prediction flips, so it ranks similar networks with less of the
 * validation images' sampling noise (docs/bench/supernet.md).
 */
export function meanLogLikelihood(logits: Float32Array, labels: Int32Array, classes: number): number {
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const row = logits.subarray(i * classes, (i + 1) * classes);
    let max = -Infinity;
    for (let k = 0; k < classes; k++) if (row[k] > max) max = row[k];
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(row[k] - max);
    total += row[labels[i]] - max - Math.log(sum);
  }
  return labels.length ? total / labels.length : 0;
}

/** Top-1 accuracy (0–1) of a model on a split. */
export function evaluateAccuracy(model: LayersModel, split: TensorSplit): number {
  return accuracyFromLogits(predictLogits(model, split), split.labels, model.outputs[0].shape[1] as number);
}

/** Logits through tfjs predict on the current backend: works for any model, no plan needed. */
export const tfjsEvaluator: SplitEvaluator = {
  name: 'tfjs',
  logits: async (model, splits) => splits.map((split) => predictLogits(model, split)),
};
