/**
 * A tfjs-layers BatchNormalization whose training-mode forward and backward
 * are one fused kernel each (see kernels/register.ts). It serialises under the
 * standard class name, so a saved model loads with plain `tf.loadLayersModel`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
// Loads tfjs-layers, which registers the stock class looked up below.
import '@tensorflow/tfjs-layers';
import { BATCH_NORM_TRAINING, FUSED_BATCH_NORM_BACKENDS } from './kernels/register.js';

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

/** Batch normalisation with a fused training path on the wasm and cpu backends. */
export class FusedBatchNormalization extends BatchNormalizationBase {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const self = this as unknown as BatchNormInternals;
    const lastAxis = self.axis === -1 || self.axis === x.rank - 1;
    const fused = fusedEnabled && (FUSED_BATCH_NORM_BACKENDS as readonly string[]).includes(tf.getBackend());
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
