/**
 * One replica of a model in data-parallel training (data-parallel.ts): its
 * loss and gradients on one shard of a batch, written flat into a buffer,
 * and the update from the averaged gradient with its own optimizer. The
 * main thread's model is replica 0; each worker thread holds another
 * (data-parallel-worker.ts). All replicas start from the same weights and
 * optimizer state and apply the same averaged gradient with the same
 * operations, so their weights stay identical to the bit.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { SGD_MOMENTUM } from './constants.js';
import { decayedWeights, distillationLoss } from './training-loop.js';
import { toResolution } from './evaluate.js';
import { stemFilter, withoutImageGradient } from './kernels/image-gradient.js';
import type { DistillationOptions, OptimizerName } from './types.js';

/** What a replica needs to compute its loss and update: the resolved training options. */
export interface ReplicaOptions {
  optimizer: OptimizerName;
  learningRate: number;
  weightDecay: number;
  distillation: DistillationOptions;
  labelSmoothing: number;
}

/** One shard of a batch: `count` images from `first` on, in buffers shared by every replica. */
export interface Shard {
  first: number;
  count: number;
}

/** The batch as every replica sees it: shared buffers filled by the main thread. */
export interface BatchBuffers {
  /** Images, NHWC, `batchSize · height · width · channels`. */
  images: Float32Array;
  labels: Int32Array;
  /** Teacher logits, `batchSize · classes`, or null without distillation. */
  teacher: Float32Array | null;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
}

/** Optimizer state as checkpoints hold it (checkpoint.ts). */
export type OptimizerState = Array<{ name: string; values: Float32Array; shape: number[]; dtype: 'float32' | 'int32' }>;

/**
 * The weighted sum Σ weights[i] · shards[i] into `out`, element by element
 * in the fixed order i = 0, 1, …: the same inputs give the same bits
 * whatever order the shards arrived in.
 */
export function averageGradients(shards: Float32Array[], weights: number[], out: Float32Array): void {
  out.fill(0);
  for (let i = 0; i < shards.length; i++) {
    const g = shards[i];
    const w = weights[i];
    if (w === 0) continue;
    for (let j = 0; j < out.length; j++) out[j] += w * g[j];
  }
}

/** `batch` images cut into `parts` contiguous shards, the first `batch mod parts` one larger. */
export function shardsOf(batch: number, parts: number): Shard[] {
  const base = Math.floor(batch / parts);
  const extra = batch % parts;
  const shards: Shard[] = [];
  let first = 0;
  for (let i = 0; i < parts; i++) {
    const count = base + (i < extra ? 1 : 0);
    shards.push({ first, count });
    first += count;
  }
  return shards;
}

export class Replica {
  readonly variables: tf.Variable[];
  /** Floats of all trainable weights: the length of a flat gradient. */
  readonly size: number;
  readonly #offsets: number[];
  readonly #decayed: tf.Variable[];
  readonly #optimizer: tf.Optimizer;
  readonly #resolution: number;

  constructor(
    readonly model: LayersModel,
    readonly options: ReplicaOptions,
  ) {
    this.variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.#decayed = decayedWeights(model);
    this.#offsets = [];
    let size = 0;
    for (const v of this.variables) {
      this.#offsets.push(size);
      size += v.size;
    }
    this.size = size;
    this.#optimizer = options.optimizer === 'sgd' ? tf.train.momentum(options.learningRate, SGD_MOMENTUM) : tf.train.adam(options.learningRate);
    this.#resolution = model.inputs[0].shape[1] as number;
  }

  get optimizer(): tf.Optimizer {
    return this.#optimizer;
  }

  /** Sets the weights (BN statistics included) and, when given, the optimizer state: a replica's starting point. */
  async load(weights: Float32Array[], optimizerState: OptimizerState | null): Promise<void> {
    const current = this.model.getWeights();
    if (current.length !== weights.length || current.some((w, i) => w.size !== weights[i].length)) {
      throw new Error(`data-parallel replica: ${weights.length} weight tensors do not fit this model's ${current.length}`);
    }
    this.model.setWeights(current.map((w, i) => tf.tensor(weights[i], w.shape)));
    if (optimizerState) await this.#optimizer.setWeights(optimizerState.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape, w.dtype) })));
  }

  /**
   * Loss and gradients of `shard` of the batch (the single-thread loop's
   * loss: mean KD/CE over the shard plus the L2 term); the gradient goes
   * flat into `out` in trainable-weight order. Returns the loss.
   */
  gradients(batch: BatchBuffers, shard: Shard, out: Float32Array): number {
    const { height, width, channels, numClasses } = batch;
    const n = shard.count;
    const imageSize = height * width * channels;
    const o = this.options;
    const loss = withoutImageGradient(stemFilter(this.model), () => tf.tidy(() => {
      const images = batch.images.subarray(shard.first * imageSize, (shard.first + n) * imageSize);
      const x = toResolution(tf.tensor4d(images, [n, height, width, channels]), this.#resolution);
      const labels = tf.oneHot(tf.tensor1d(batch.labels.slice(shard.first, shard.first + n), 'int32'), numClasses) as tf.Tensor2D;
      const teacher = batch.teacher ? tf.tensor2d(batch.teacher.slice(shard.first * numClasses, (shard.first + n) * numClasses), [n, numClasses]) : null;
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.model.apply(x, { training: true }) as tf.Tensor2D;
        let total = distillationLoss(logits, labels, teacher, o.distillation, o.labelSmoothing);
        if (o.weightDecay > 0 && this.#decayed.length) {
          const l2 = tf.addN(this.#decayed.map((w) => tf.sum(tf.square(w))));
          total = tf.add(total, tf.mul(l2, o.weightDecay / 2));
        }
        return total as tf.Scalar;
      }, this.variables);
      this.variables.forEach((v, i) => out.set(grads[v.name].dataSync() as Float32Array, this.#offsets[i]));
      return value;
    }));
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  }

  /** One optimizer step with the flat gradient `gradient` at learning rate `learningRate`. */
  apply(gradient: Float32Array, learningRate: number): void {
    (this.#optimizer as unknown as { learningRate: number }).learningRate = learningRate;
    if (this.options.optimizer === 'sgd') (this.#optimizer as tf.MomentumOptimizer).setLearningRate(learningRate);
    tf.tidy(() => {
      const grads: tf.NamedTensorMap = {};
      // A copy: the buffer is shared and refilled next step, and some backends keep the array they are given.
      this.variables.forEach((v, i) => (grads[v.name] = tf.tensor(gradient.slice(this.#offsets[i], this.#offsets[i] + v.size), v.shape)));
      this.#optimizer.applyGradients(grads);
    });
  }

  /** The trainable weights, flat: replicas compare them to prove they are still identical. */
  flatWeights(): Float32Array {
    const out = new Float32Array(this.size);
    this.variables.forEach((v, i) => out.set(v.dataSync() as Float32Array, this.#offsets[i]));
    return out;
  }

  dispose(): void {
    this.#optimizer.dispose();
  }
}
