/**
 * The stem's gradient with respect to the images, skipped. tfjs's fused
 * convolution computes its input and filter gradients together, so a
 * training step pays for the first convolution's input gradient (a
 * full-resolution k×k backward pass, ~8% of the reference net's step) and
 * then throws it away: nothing upstream of the images is trained. PyTorch
 * never computes it (the images do not require grad). Inside
 * {@link withoutImageGradient} the wasm Conv2DBackpropInput kernel returns
 * zeros for the marked filter instead.
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';

const unneeded = new Set<tf.DataId>();

/** Whether the input gradient of the convolution with this filter is known to be thrown away. */
export function inputGradientUnneeded(filter: tf.DataId): boolean {
  return unneeded.has(filter);
}

/**
 * The filter of `model`'s first convolution when nothing before it is
 * trainable (so its input gradient reaches only the images); else null.
 */
export function stemFilter(model: LayersModel): tf.Tensor | null {
  const first = model.layers.find((layer) => layer.trainableWeights.length > 0);
  if (!first || first.getClassName() !== 'Conv2D') return null;
  return first.trainableWeights[0].read();
}

/**
 * Runs one training step with the input gradient of `filter`'s convolution
 * skipped (zeros). The filter's tensor identity is taken now: the optimizer's
 * update inside `step` gives the variable new data, which is not marked.
 */
export function withoutImageGradient<T>(filter: tf.Tensor | null, step: () => T): T {
  if (!filter) return step();
  const id = filter.dataId;
  unneeded.add(id);
  try {
    return step();
  } finally {
    unneeded.delete(id);
  }
}
