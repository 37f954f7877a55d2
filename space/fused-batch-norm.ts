/**
 * A tfjs-layers BatchNormalization whose training-mode forward and backward
 * are one fused kernel each, when a kernel named {@link BATCH_NORM_TRAINING}
 * is registered for the active backend (train/kernels/register.ts does that);
 * otherwise it is the stock layer. It serialises under the standard class
 * name, so a saved model loads with plain `tf.loadLayersModel`. The layer
 * lives in space/ because the builders need it; the kernel is training's
 * business, and the two meet only through the kernel's name.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
// Loads tfjs-layers, which registers the stock class looked up below.
import '@tensorflow/tfjs-layers';

/** Kernel name of the fused training batch-norm: inputs x, scale, offset; outputs [y, mean, variance]. */
export const BATCH_NORM_TRAINING = 'NasBatchNormTraining';

type BatchNormLayer = ReturnType<typeof tfl.layers.batchNormalization>;
type BatchNormArgs = Parameters<typeof tfl.layers.batchNormalization>[0];
type LayerVariable = { read(): tf.Tensor; write(value: tf.Tensor): void };
/** Fields the base class keeps private but this subclass must reach. */
interface BatchNormInternals {
  gamma: LayerVariable;
  beta: LayerVariable;
  movingMean: LayerVariable;
  movingVariance: LayerVariable;
  momentum: number;
  epsilon: number;
  axis: number;
}

const registry = tf.serialization.SerializationMap.getMap().classNameMap;
const BatchNormalizationBase = registry['BatchNormalization'][0] as unknown as new (
  args?: BatchNormArgs,
) => BatchNormLayer;

let fusedEnabled = true;

/**
 * Turns the fused training path off (stock tfjs-layers maths) or back on.
 * Tests use it to compare against an independent reference.
 */
export function useFusedBatchNorm(enabled: boolean): void {
  fusedEnabled = enabled;
}

/** Batch normalisation with a fused training path where the kernel is registered. */
export class FusedBatchNormalization extends BatchNormalizationBase {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const self = this as unknown as BatchNormInternals;
    const lastAxis = self.axis === -1 || self.axis === x.rank - 1;
    const fused = fusedEnabled && tf.getKernel(BATCH_NORM_TRAINING, tf.getBackend()) !== undefined;
    if (kwargs['training'] !== true || !lastAxis || !fused) return super.call(inputs, kwargs);
    return tf.tidy(() => {
      const [y, mean, variance] = tf.engine().runKernel(
        BATCH_NORM_TRAINING,
        { x, scale: self.gamma.read(), offset: self.beta.read() },
        { epsilon: self.epsilon },
      ) as tf.Tensor[];
      // Moving averages as tfjs-layers keeps them (biased batch variance), so
      // inference matches a model trained by the stock layer.
      const decay = 1 - self.momentum;
      for (const [variable, value] of [
        [self.movingMean, mean],
        [self.movingVariance, variance],
      ] as const) {
        const old = variable.read();
        variable.write(tf.sub(old, tf.mul(tf.sub(old, value), decay)));
      }
      return y;
    });
  }
}
