/**
 * One replica of a supernet in training: the shared weights, the optimizer
 * of the current phase, and one step's work — the summed gradient of the
 * step's subnets on one shard of the batch, written flat, then the update
 * from a flat gradient. With one thread the training loop (supernet-train.ts)
 * uses one replica; with more, every thread holds one (data parallel, as
 * data-parallel.ts does for a single model): all start from the same weights
 * and optimizer state, draw the same subnets for a step, enter phases at the
 * same steps and apply the same averaged gradient, so they stay identical.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NetworkPlan } from '../space/plan.js';
import { planNetwork } from '../space/plan.js';
import { sortHiddenChannels, stridesOf, type SupernetSpace } from '../space/supernet.js';
import type { Genome } from '../space/types.js';
import type { OptimizerState, Shard, BatchBuffers } from './data-parallel-replica.js';
import { SGD_MOMENTUM } from './constants.js';
import { distillationLoss } from './training-loop.js';
import { toResolution } from './evaluate.js';
import { SupernetWeights, subnetLogits } from './supernet-weights.js';
import type { DistillationOptions } from './types.js';
import type { SupernetPhase } from './supernet-phases.js';

/** What a replica needs of the resolved recipe. */
export interface SupernetReplicaOptions {
  weightDecay: number;
  distillation: DistillationOptions;
  labelSmoothing: number;
}

export class SupernetReplica {
  readonly #trainable: tf.Variable[];
  readonly #decayed: tf.Variable[];
  readonly #offsets: number[] = [];
  /** Floats of every trainable variable: the length of a flat gradient. */
  readonly size: number;
  readonly #plans = new Map<string, NetworkPlan>();
  #optimizer: tf.MomentumOptimizer | null = null;
  #phase = -1;

  constructor(
    readonly weights: SupernetWeights,
    readonly space: SupernetSpace,
    readonly options: SupernetReplicaOptions,
    readonly dataShape: { numClasses: number; inputChannels: number },
  ) {
    this.#trainable = weights.trainable();
    this.#decayed = weights.decayed();
    let size = 0;
    for (const v of this.#trainable) {
      this.#offsets.push(size);
      size += v.size;
    }
    this.size = size;
  }

  get optimizer(): tf.Optimizer {
    return this.#optimizer!;
  }

  #planOf(genome: Genome): NetworkPlan {
    const key = JSON.stringify(genome);
    let plan = this.#plans.get(key);
    if (!plan) {
      if (this.#plans.size > 4096) this.#plans.clear();
      this.#plans.set(key, (plan = planNetwork(genome, stridesOf(this.space.config), this.dataShape)));
    }
    return plan;
  }

  /**
   * Makes phase `p` current before a step: on a change of phase a fresh
   * optimizer; on entering it at its first step (`entering`), the channel
   * sort the phase asks for; when resuming inside it, the saved momentum.
   */
  async enterPhase(p: number, phase: SupernetPhase, entering: boolean, resumedOptimizer: OptimizerState | null): Promise<void> {
    if (p === this.#phase) return;
    this.#phase = p;
    this.#optimizer?.dispose();
    this.#optimizer = tf.train.momentum(1, SGD_MOMENTUM);
    if (entering && phase.sortHiddenChannels) {
      const sorted = sortHiddenChannels(this.weights.source(), this.weights.plan);
      this.weights.assign(this.weights.names().flatMap((n) => sorted(n).map((t) => t.values)));
    }
    if (!entering && resumedOptimizer) {
      await this.#optimizer.setWeights(resumedOptimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape, w.dtype) })));
    }
  }

  /**
   * The summed gradient of `subnets` (largest first) on `shard` of the batch
   * into `out`, flat in trainable order; returns the largest subnet's loss.
   * The largest learns the labels (or the teacher) with weight decay; the
   * others learn its predictions of the same images, a constant here.
   */
  gradients(subnets: readonly Genome[], batch: BatchBuffers, shard: Shard, out: Float32Array): number {
    const { height, width, channels, numClasses } = batch;
    const n = shard.count;
    const imageSize = height * width * channels;
    const o = this.options;
    out.fill(0);
    const loss = tf.tidy(() => {
      const x = tf.tensor4d(batch.images.subarray(shard.first * imageSize, (shard.first + n) * imageSize), [n, height, width, channels]);
      const labels = tf.oneHot(tf.tensor1d(batch.labels.slice(shard.first, shard.first + n), 'int32'), numClasses) as tf.Tensor2D;
      const teacher = batch.teacher ? tf.tensor2d(batch.teacher.slice(shard.first * numClasses, (shard.first + n) * numClasses), [n, numClasses]) : null;
      let largestLoss: tf.Scalar | null = null;
      let largestLogits: tf.Tensor2D | null = null;
      subnets.forEach((genome, k) => {
        const plan = this.#planOf(genome);
        const input = toResolution(x, genome.resolution);
        const { value, grads } = tf.variableGrads(() => {
          const logits = subnetLogits(this.weights, plan, input, 'batch');
          if (k > 0) return distillationLoss(logits, labels, largestLogits, { temperature: 1, alpha: 1 });
          largestLogits = tf.keep(logits);
          let total = distillationLoss(logits, labels, teacher, o.distillation, o.labelSmoothing);
          if (o.weightDecay > 0) total = tf.add(total, tf.mul(tf.addN(this.#decayed.map((w) => tf.sum(tf.square(w)))), o.weightDecay / 2));
          return total;
        }, this.#trainable);
        if (k === 0) largestLoss = tf.keep(value);
        this.#trainable.forEach((v, i) => {
          const g = grads[v.name];
          if (!g) return;
          const values = g.dataSync() as Float32Array;
          const at = this.#offsets[i];
          for (let j = 0; j < values.length; j++) out[at + j] += values[j];
        });
      });
      (largestLogits as tf.Tensor | null)?.dispose();
      return largestLoss!;
    });
    const value = loss.dataSync()[0];
    loss.dispose();
    return value;
  }

  /** One optimizer step with the flat gradient `gradient` at `learningRate`. */
  apply(gradient: Float32Array, learningRate: number): void {
    this.#optimizer!.setLearningRate(learningRate);
    tf.tidy(() => {
      const grads: Record<string, tf.Tensor> = {};
      // A copy: the buffer may be shared and refilled next step.
      this.#trainable.forEach((v, i) => (grads[v.name] = tf.tensor(gradient.slice(this.#offsets[i], this.#offsets[i] + v.size), v.shape)));
      this.#optimizer!.applyGradients(grads as unknown as Record<string, tf.Variable>);
    });
  }

  /** The trainable weights, flat: replicas compare them to prove they are still identical. */
  flatWeights(): Float32Array {
    const out = new Float32Array(this.size);
    this.#trainable.forEach((v, i) => out.set(v.dataSync() as Float32Array, this.#offsets[i]));
    return out;
  }

  dispose(): void {
    this.#optimizer?.dispose();
  }
}
