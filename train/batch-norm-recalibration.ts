/**
 * Batch-norm statistics for the weights training ended with. During
 * training a BN layer's moving mean and variance trail the batch
 * statistics of weights that keep changing; after a short training (the
 * search's first rung: 30–125 steps) they still describe the early
 * weights, and a model evaluated with them can score near chance while the
 * same weights with their own statistics are far better (measured: 12–33%
 * against 65–68% after 2,000 images). So, as Once-for-All does for every
 * sub-network it evaluates, the statistics are computed again after
 * training: forward passes in training mode over fixed training images,
 * each batch weighted equally, no gradients, weights untouched.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import type { TensorSplit } from './types.js';
import { toResolution } from './evaluate.js';

/** Training images the statistics are computed from. */
export const DEFAULT_BN_RECALIBRATION_IMAGES = 512;
/** Images per forward pass of the recalibration. */
export const RECALIBRATION_BATCH = 64;

interface BatchNormState {
  momentum: number;
  movingMean: unknown;
}

/** Batch-norm layers of a model: those with moving statistics. */
function batchNormLayers(model: LayersModel): BatchNormState[] {
  return model.layers.filter((layer) => 'movingMean' in layer && 'momentum' in layer) as unknown as BatchNormState[];
}

/**
 * Sets every BN layer's moving mean and variance to the average of its
 * batch statistics over the first `images` images of `split` (whole batches
 * of {@link RECALIBRATION_BATCH}; at least one). Returns the images used.
 */
export function recalibrateBatchNorm(model: LayersModel, split: TensorSplit, images = DEFAULT_BN_RECALIBRATION_IMAGES): number {
  const layers = batchNormLayers(model);
  if (!layers.length || split.count === 0) return 0;
  const size = Math.min(RECALIBRATION_BATCH, split.count);
  const batches = Math.max(1, Math.floor(Math.min(images, split.count) / size));
  const resolution = model.inputs[0].shape[1] as number;
  const { height, width, channels } = split;
  const imageSize = height * width * channels;
  const momenta = layers.map((l) => l.momentum);
  try {
    for (let b = 0; b < batches; b++) {
      // Momentum b/(b+1): batch b gets weight 1/(b+1), so the moving values end as the plain mean over batches.
      for (const layer of layers) layer.momentum = b / (b + 1);
      tf.tidy(() => {
        const x = toResolution(tf.tensor4d(split.images.subarray(b * size * imageSize, (b + 1) * size * imageSize), [size, height, width, channels]), resolution);
        model.apply(x, { training: true });
      });
    }
  } finally {
    layers.forEach((layer, i) => (layer.momentum = momenta[i]));
  }
  return batches * size;
}
