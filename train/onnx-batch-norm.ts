/**
 * A subnet's batch-norm statistics computed through onnxruntime: the same
 * numbers as batch-norm-recalibration.ts (the mean, over whole batches of
 * RECALIBRATION_BATCH images, of each BN layer's batch mean and biased
 * batch variance, every BN on its batch's statistics) from one pass of the
 * statistics graph space/build-onnx.ts writes, instead of a tfjs forward in
 * training mode. Measured while scoring supernet subnets on AMD EPYC Zen 5:
 * the tfjs pass over 512 images took 1.37 s a subnet, a third of scoring
 * (docs/bench/supernet.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { buildOnnxStatisticsModel, type WeightSource, type WeightTensor } from '../space/build-onnx.js';
import type { NetworkPlan } from '../space/plan.js';
import { DEFAULT_BN_RECALIBRATION_IMAGES, RECALIBRATION_BATCH } from './batch-norm-recalibration.js';
import { toResolution } from './evaluate.js';
import { nhwcToNchw, ONNX_EVAL_THREADS } from './onnx-evaluate.js';
import type { TensorSplit } from './types.js';

/** One BN layer's recomputed statistics. */
export interface BatchNormStatistics {
  mean: Float32Array;
  variance: Float32Array;
}

/**
 * Each BN layer's statistics (keyed `<conv>_bn`) over the first `images`
 * images of `split`, in whole batches of {@link RECALIBRATION_BATCH} (at
 * least one), resized to the plan's resolution as training resizes.
 */
export async function onnxBatchNormStatistics(plan: NetworkPlan, weights: WeightSource, split: TensorSplit, images = DEFAULT_BN_RECALIBRATION_IMAGES, threads = ONNX_EVAL_THREADS): Promise<Map<string, BatchNormStatistics>> {
  if (split.count === 0) throw new Error('batch-norm statistics: the split holds no images');
  const size = Math.min(RECALIBRATION_BATCH, split.count);
  const { bytes, statistics } = buildOnnxStatisticsModel(plan, weights, size);
  const sums = new Map(statistics.map((s) => [s.layer, { mean: new Float64Array(s.channels), variance: new Float64Array(s.channels) }]));
  const batches = Math.max(1, Math.floor(Math.min(images, split.count) / size));
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  try {
    const { resolution, inputChannels: c } = plan;
    const { height, width } = split;
    const imageSize = height * width * c;
    const fetches = statistics.flatMap((s) => [s.mean, s.variance]);
    const input = new Float32Array(size * resolution * resolution * c);
    for (let b = 0; b < batches; b++) {
      let nhwc = split.images.subarray(b * size * imageSize, (b + 1) * size * imageSize);
      if (height !== resolution || width !== resolution) nhwc = tf.tidy(() => toResolution(tf.tensor4d(nhwc, [size, height, width, c]), resolution).dataSync() as Float32Array);
      const feed = { [session.inputNames[0]]: new ort.Tensor('float32', nhwcToNchw(nhwc, size, resolution, resolution, c, input), [size, c, resolution, resolution]) };
      const out = await session.run(feed, fetches);
      for (const s of statistics) {
        const sum = sums.get(s.layer)!;
        const mean = out[s.mean].data as Float32Array;
        const variance = out[s.variance].data as Float32Array;
        for (let k = 0; k < s.channels; k++) (sum.mean[k] += mean[k]), (sum.variance[k] += variance[k]);
      }
    }
  } finally {
    await session.release();
  }
  return new Map([...sums].map(([layer, s]) => [layer, { mean: Float32Array.from(s.mean, (v) => v / batches), variance: Float32Array.from(s.variance, (v) => v / batches) }]));
}

/** `weights` with each BN layer's moving mean and variance replaced by `statistics` (γ and β, and every other layer, unchanged). */
export function withBatchNormStatistics(weights: WeightSource, statistics: ReadonlyMap<string, BatchNormStatistics>): WeightSource {
  return (layer: string): WeightTensor[] => {
    const own = weights(layer);
    const fresh = statistics.get(layer);
    if (!fresh) return own;
    const [gamma, beta, mean, variance] = own;
    return [gamma, beta, { ...mean, values: fresh.mean }, { ...variance, values: fresh.variance }];
  };
}
