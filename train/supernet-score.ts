/**
 * A subnet's accuracy with weights inherited from the supernet: its weights
 * sliced out (space/supernet.ts subnetWeights), batch-norm statistics
 * computed afresh for that subnet (the supernet keeps none that fit it),
 * then the validation split through onnxruntime, as a trained candidate is
 * evaluated; all of it in onnxruntime, a tfjs model built only where a
 * candidate's files are wanted (subnetModel). No training, hence no
 * training noise: the same supernet scores the same subnet the same way
 * every time.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildOnnxModel, type WeightSource } from '../space/build-onnx.js';
import { buildTfjsModel, setModelWeights } from '../space/build-tfjs.js';
import type { NetworkPlan } from '../space/plan.js';
import { subnetWeights } from '../space/supernet.js';
import { accuracyFromLogits, meanLogLikelihood, toResolution } from './evaluate.js';
import { onnxBatchNormStatistics, withBatchNormStatistics } from './onnx-batch-norm.js';
import { OnnxSplitRunner } from './onnx-evaluate.js';
import { SUBNET_BN_IMAGES } from './constants.js';
import type { TensorSplit } from './types.js';

/**
 * The first `count` images of `split` resized to `resolution` once, as
 * toResolution resizes a batch: a scorer keeps one copy per resolution, so
 * that scoring thousands of subnets does not resize the same images
 * thousands of times (measured: the resize was up to two thirds of a
 * subnet's validation time at 32 px).
 */
export function splitAtResolution(split: TensorSplit, resolution: number, count = split.count): TensorSplit {
  const n = Math.min(count, split.count);
  const { height, width, channels } = split;
  if (height === resolution && width === resolution) return { ...split, images: split.images.subarray(0, n * height * width * channels), labels: split.labels.subarray(0, n), count: n };
  const images = new Float32Array(n * resolution * resolution * channels);
  const batch = 256;
  for (let start = 0; start < n; start += batch) {
    const m = Math.min(batch, n - start);
    const resized = tf.tidy(() => toResolution(tf.tensor4d(split.images.subarray(start * height * width * channels, (start + m) * height * width * channels), [m, height, width, channels]), resolution).dataSync() as Float32Array);
    images.set(resized, start * resolution * resolution * channels);
  }
  return { images, labels: split.labels.subarray(0, n), count: n, height: resolution, width: resolution, channels };
}

/**
 * Splits at each resolution asked for, resized once and kept (a scoring
 * thread holds one): the first `bnImages` of `bn`, and the first
 * `validationImages` of `validation` (all of it by default).
 */
export class ResizedSplits {
  readonly #cache = new Map<string, TensorSplit>();

  constructor(
    readonly bn: TensorSplit,
    readonly validation: TensorSplit,
    readonly bnImages = SUBNET_BN_IMAGES,
    readonly validationImages = validation.count,
  ) {}

  /** Images the validation split scores on: `validationImages`, at most the split's. */
  get validationCount(): number {
    return Math.min(this.validationImages, this.validation.count);
  }

  /** The BN images and the validation split at `resolution`. */
  at(resolution: number): { bn: TensorSplit; validation: TensorSplit } {
    const get = (name: string, make: () => TensorSplit) => {
      const key = `${name}:${resolution}`;
      let split = this.#cache.get(key);
      if (!split) this.#cache.set(key, (split = make()));
      return split;
    };
    return { bn: get('bn', () => splitAtResolution(this.bn, resolution, this.bnImages)), validation: get('validation', () => splitAtResolution(this.validation, resolution, this.validationImages)) };
  }
}

/** A subnet scored: its accuracy, and the weights it was scored with (sliced, with its own BN statistics). */
export interface ScoredSubnet {
  accuracy: number;
  /** Mean log-probability of the true class on the same images (`meanLogLikelihood`). */
  logLikelihood: number;
  weights: WeightSource;
}

/** The weights of `plan` sliced from the supernet, with its own BN statistics (from the first `bnImages` of `bnSplit`, through onnxruntime). */
export async function inheritedWeights(supernet: WeightSource, plan: NetworkPlan, bnSplit: TensorSplit, bnImages = SUBNET_BN_IMAGES, kernelTransform = false): Promise<WeightSource> {
  const sliced = subnetWeights(supernet, plan, kernelTransform);
  return withBatchNormStatistics(sliced, await onnxBatchNormStatistics(plan, sliced, bnSplit, bnImages));
}

/** The logits of the subnet `plan` on `validation` (image-major, `numClasses` a row), and the inherited weights that gave them. */
export async function subnetLogits(
  supernet: WeightSource,
  plan: NetworkPlan,
  splits: { bn: TensorSplit; validation: TensorSplit },
  bnImages = SUBNET_BN_IMAGES,
  kernelTransform = false,
): Promise<{ logits: Float32Array; weights: WeightSource }> {
  const weights = await inheritedWeights(supernet, plan, splits.bn, bnImages, kernelTransform);
  const runner = await OnnxSplitRunner.fromBytes(plan, buildOnnxModel(plan, weights));
  try {
    return { logits: await runner.logits(splits.validation), weights };
  } finally {
    await runner.release();
  }
}

/** Accuracy of the subnet `plan` on `validation` (see the file comment), and the weights that scored it. */
export async function scoreSubnet(
  supernet: WeightSource,
  plan: NetworkPlan,
  splits: { bn: TensorSplit; validation: TensorSplit; numClasses: number },
  bnImages = SUBNET_BN_IMAGES,
  kernelTransform = false,
): Promise<ScoredSubnet> {
  const { logits, weights } = await subnetLogits(supernet, plan, splits, bnImages, kernelTransform);
  const { labels } = splits.validation;
  return { accuracy: accuracyFromLogits(logits, labels, splits.numClasses), logLikelihood: meanLogLikelihood(logits, labels, splits.numClasses), weights };
}

/** The standalone tfjs model of a scored subnet (the caller disposes it): what its candidate files are made from. */
export function subnetModel(plan: NetworkPlan, weights: WeightSource): LayersModel {
  const model = buildTfjsModel(plan, 0);
  setModelWeights(model, weights);
  return model;
}
