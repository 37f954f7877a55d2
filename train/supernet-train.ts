/**
 * Training a weight-sharing supernet: every step trains several subnets on
 * one batch and sums their gradients into the shared weights. Two ways to
 * choose them, both written as phases (data), so one loop runs either:
 *   - the sandwich rule with in-place distillation (BigNAS): every step the
 *     largest subnet (labels, or the run's teacher), the smallest and
 *     `randomSubnets` random ones, the smaller ones learning the largest's
 *     soft predictions of the same batch;
 *   - progressive shrinking (Once-for-All): the largest network first, then
 *     elastic kernel, then depth, then expand ratio and width, each phase
 *     with its own cosine schedule and fresh momentum, the hidden channels
 *     sorted by importance before expand ratios open; after the first phase
 *     each step trains the largest and `randomSubnets` random subnets of the
 *     phase, the random ones distilled in place from it.
 * The loop's data order, augmentation, schedule bookkeeping and checkpoints
 * are distill.ts's (trainingStart, drawIndices, recordStep), so a supernet
 * resumes after a kill exactly as a candidate does: the subnets of a step are
 * drawn from a generator seeded by (seed, step), which needs no state.
 */
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import type { NetworkPlan } from '../space/plan.js';
import { planNetwork } from '../space/plan.js';
import { ALL_ELASTIC, flatWeightSource, sampleSubnet, sortHiddenChannels, stridesOf, supernetPlan, type ElasticDimension, type SupernetSpace } from '../space/supernet.js';
import type { Genome } from '../space/types.js';
import { selectBackend, type BackendChoice } from './backend.js';
import type { LoopState, TrainingCheckpoint } from './checkpoint.js';
import { SGD_MOMENTUM } from './constants.js';
import type { PreparedData } from './datasets/prepared.js';
import { gatherAugmented } from './datasets/prepare.js';
import { distillationLoss, drawIndices, recordStep, scheduledLearningRate, trainingStart, type TeacherLogits } from './distill.js';
import { toResolution } from './evaluate.js';
import { SupernetWeights, subnetLogits } from './supernet-weights.js';
import type { DistillationOptions, TrainOptions } from './types.js';

/** How the subnets of each step are chosen. */
export type SupernetStrategy = 'sandwich' | 'progressive';

/** A stretch of training in which the same dimensions are elastic. */
export interface SupernetPhase {
  name: string;
  /** Dimensions random subnets vary in. */
  elastic: readonly ElasticDimension[];
  /** Share of all steps. */
  share: number;
  /** Peak learning rate as a fraction of the recipe's. */
  learningRateScale: number;
  /** Whether the largest subnet alone trains (no random ones). */
  largestOnly?: boolean;
  /** Sort hidden channels by importance on entering the phase. */
  sortHiddenChannels?: boolean;
  /** Whether the smallest subnet trains every step (the sandwich rule). */
  smallest?: boolean;
}

/** The sandwich rule: one phase, everything elastic from the start. */
export const SANDWICH_PHASES: readonly SupernetPhase[] = [{ name: 'sandwich', elastic: ALL_ELASTIC, share: 1, learningRateScale: 1, smallest: true }];

/**
 * Progressive shrinking, Once-for-All's order. OFA's shares (full network,
 * kernel, depth, expand: 180, 120, 25 + 120, 25 + 120 epochs) and later-phase
 * learning rates (a third to a tenth of the first) are for ImageNet; these
 * keep the order and roughly the proportions.
 */
export const PROGRESSIVE_PHASES: readonly SupernetPhase[] = [
  { name: 'largest', elastic: ['resolution'], share: 0.25, learningRateScale: 1, largestOnly: true },
  { name: 'kernel', elastic: ['resolution', 'kernel'], share: 0.2, learningRateScale: 0.4 },
  { name: 'depth', elastic: ['resolution', 'kernel', 'depth'], share: 0.25, learningRateScale: 0.4 },
  { name: 'expand and width', elastic: ALL_ELASTIC, share: 0.3, learningRateScale: 0.4, sortHiddenChannels: true },
];

/** Everything that decides the trained weights: the cache key hashes it. */
export interface SupernetRecipe {
  strategy: SupernetStrategy;
  epochs: number;
  batchSize: number;
  /** Peak SGD learning rate. */
  learningRate: number;
  weightDecay: number;
  /** Random subnets per step besides the largest (and, for the sandwich rule, the smallest). */
  randomSubnets: number;
  augment: boolean;
  /** The teacher's distillation into the largest subnet (α 0: labels only). */
  distillation: DistillationOptions;
  warmupEpochs: number;
  seed: number;
}

/**
 * The default recipe. Sandwich rule until the measured comparison says
 * otherwise (docs/supernet.md); two random subnets per step as BigNAS; the
 * candidates' SGD learning rate and weight decay; 10 epochs: what one night
 * allows on 2 cores for the small space's supernet (see docs/supernet.md).
 */
export const DEFAULT_SUPERNET_RECIPE: SupernetRecipe = {
  strategy: 'sandwich',
  epochs: 10,
  batchSize: 64,
  learningRate: 0.05,
  weightDecay: 4e-5,
  randomSubnets: 2,
  augment: true,
  distillation: { temperature: 4, alpha: 0.9 },
  warmupEpochs: 0.5,
  seed: 0,
};

/** What a training reports once an epoch ends. */
export interface SupernetEpoch {
  epoch: number;
  phase: string;
  /** Mean loss of the largest subnet over the epoch. */
  loss: number;
  trainSeconds: number;
}

export interface SupernetTrainOptions {
  /** A checkpoint of the same supernet and recipe to resume from. */
  resumeFrom?: TrainingCheckpoint | null;
  /** Called at every epoch's end with a checkpoint to keep. */
  onEpoch?: (checkpoint: TrainingCheckpoint, epoch: SupernetEpoch) => void | Promise<void>;
  onProgress?: TrainOptions['onProgress'];
}

export interface SupernetTrainingResult {
  /** The trained weights, layer by layer in planWeightShapes order. */
  weights: Float32Array[];
  plan: NetworkPlan;
  epochs: SupernetEpoch[];
  imagesSeen: number;
  trainSeconds: number;
  /** Subnet forward-backward passes × images × MACs: the compute spent, comparable across strategies. */
  subnetMacs: number;
  backend: BackendChoice;
}

/** The phases of a strategy. */
export function phasesOf(strategy: SupernetStrategy): readonly SupernetPhase[] {
  return strategy === 'sandwich' ? SANDWICH_PHASES : PROGRESSIVE_PHASES;
}

/** The first step of each phase (and the total at the end), from their shares of `steps`. */
export function phaseStarts(phases: readonly SupernetPhase[], steps: number): number[] {
  let share = 0;
  return [0, ...phases.map((p) => Math.round(((share += p.share) / phases.reduce((a, q) => a + q.share, 0)) * steps))];
}

/** The subnets step `step` trains, largest first: a pure function of (space, phase, seed, step). */
export function stepSubnets(space: SupernetSpace, phase: SupernetPhase, recipe: Pick<SupernetRecipe, 'seed' | 'randomSubnets'>, step: number): Genome[] {
  if (phase.largestOnly) return [space.largest];
  const rng = seedrandom(`supernet:${recipe.seed}:${step}`);
  const random = Array.from({ length: recipe.randomSubnets }, () => sampleSubnet(space, phase.elastic, rng));
  return [space.largest, ...(phase.smallest ? [space.smallest] : []), ...random];
}

/** Expected MACs per image of one step of each phase, weighted by the phases' shares: how strategies compare at equal compute. */
export function expectedStepMacs(space: SupernetSpace, strategy: SupernetStrategy, recipe: Pick<SupernetRecipe, 'seed' | 'randomSubnets'>, data: { numClasses: number; inputChannels: number }, samples = 200): number {
  const phases = phasesOf(strategy);
  const total = phases.reduce((a, p) => a + p.share, 0);
  let macs = 0;
  for (const phase of phases) {
    let sum = 0;
    for (let s = 0; s < samples; s++) sum += stepSubnets(space, phase, recipe, s).reduce((m, g) => m + subnetMacsOf(space, g, data), 0);
    macs += (phase.share / total) * (sum / samples);
  }
  return macs;
}

function subnetMacsOf(space: SupernetSpace, genome: Genome, data: { numClasses: number; inputChannels: number }): number {
  const plan = planNetwork(genome, stridesOf(space.config), data);
  let macs = 0;
  for (const c of [plan.stem, ...plan.blocks.flatMap((b) => [b.expand, b.depthwise, b.project]), plan.head]) {
    if (!c) continue;
    macs += (c.depthwise ? c.kernel * c.kernel * c.outChannels : c.kernel * c.kernel * c.inChannels * c.outChannels) * c.outSize * c.outSize;
  }
  return macs + plan.classifier.inFeatures * plan.classifier.outFeatures;
}

/** The loop's state at a checkpoint, with the supernet's weights and the optimizer's slots. */
async function capture(weights: SupernetWeights, optimizer: tf.Optimizer, loop: LoopState, epoch: number): Promise<TrainingCheckpoint> {
  const named = await optimizer.getWeights();
  const state = named.map((w) => ({
    name: w.name,
    shape: w.tensor.shape,
    dtype: (w.tensor.dtype === 'int32' ? 'int32' : 'float32') as 'float32' | 'int32',
    values: Float32Array.from(w.tensor.dataSync() as ArrayLike<number>),
  }));
  named[0]?.tensor.dispose();
  return { ...loop, order: Int32Array.from(loop.order), stepLosses: [...loop.stepLosses], epoch, weights: weights.values(), optimizer: state };
}

/**
 * Trains the supernet of `space` on `data.train` (see the file comment) and
 * returns its weights. With `teacher`, the largest subnet distils it.
 */
export async function trainSupernet(
  space: SupernetSpace,
  data: PreparedData,
  teacher: TeacherLogits | null,
  recipe: SupernetRecipe,
  options: SupernetTrainOptions = {},
): Promise<SupernetTrainingResult> {
  const backend = await selectBackend();
  const dataShape = { numClasses: data.numClasses, inputChannels: data.train.channels };
  const plan = supernetPlan(space, dataShape);
  const resume = options.resumeFrom ?? null;
  const start = trainingStart(data, teacher, {
    budget: { epochs: recipe.epochs },
    batchSize: recipe.batchSize,
    optimizer: 'sgd',
    learningRate: recipe.learningRate,
    weightDecay: recipe.weightDecay,
    distillation: recipe.distillation,
    augment: recipe.augment ? undefined : false,
    seed: recipe.seed,
    warmupEpochs: recipe.warmupEpochs,
    resumeFrom: resume,
  });
  const { o, useTeacher, rng, steps } = start;
  const weights = resume ? SupernetWeights.fromSource(plan, flatWeightSource(plan, resume.weights)) : SupernetWeights.initial(plan, recipe.seed);
  const phases = phasesOf(recipe.strategy);
  const starts = phaseStarts(phases, steps);
  const phaseAt = (step: number) => phases.findIndex((_, i) => step >= starts[i] && step < starts[i + 1]);
  const { height, width, channels } = data.train;
  const imageSize = height * width * channels;
  const batchBuffer = new Float32Array(o.batchSize * imageSize);
  const decayed = weights.decayed();
  const trainable = weights.trainable();
  const plans = new Map<string, NetworkPlan>();
  const planOf = (g: Genome) => {
    const key = JSON.stringify(g);
    let p = plans.get(key);
    if (!p) plans.set(key, (p = planNetwork(g, stridesOf(space.config), dataShape)));
    if (plans.size > 4096) plans.clear();
    return p;
  };
  const previousSeconds = resume?.trainSeconds ?? 0;
  const started = performance.now();
  const elapsed = () => previousSeconds + (performance.now() - started) / 1000;
  const epochs: SupernetEpoch[] = [];
  let epochLosses: number[] = [];
  let subnetMacs = 0;
  let optimizer: tf.MomentumOptimizer | null = null;
  let phaseIndex = -1;

  try {
    for (let step = resume?.step ?? 0; step < steps; step++) {
      const p = phaseAt(step);
      if (p !== phaseIndex) {
        // Entering a phase (or resuming inside one): a fresh optimizer, whose
        // momentum a resume mid-phase restores; a sort happens only on entry.
        phaseIndex = p;
        optimizer?.dispose();
        optimizer = tf.train.momentum(o.learningRate, SGD_MOMENTUM);
        const entering = step === starts[p];
        if (entering && phases[p].sortHiddenChannels) {
          const sorted = sortHiddenChannels(weights.source(), plan);
          weights.assign(weights.names().flatMap((n) => sorted(n).map((t) => t.values)));
        }
        if (!entering && resume && step === resume.step) {
          await optimizer.setWeights(resume.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape, w.dtype) })));
        }
      }
      const phase = phases[p];
      const phaseSteps = starts[p + 1] - starts[p];
      optimizer!.setLearningRate(scheduledLearningRate(o.learningRate * phase.learningRateScale, step - starts[p], phaseSteps, p === 0 ? o.warmupSteps : 0));

      const n = Math.min(o.batchSize, o.totalImages - start.imagesSeen);
      const indices = drawIndices(start, n);
      const batch = batchBuffer.subarray(0, n * imageSize);
      gatherAugmented(data.train, indices, batch, o.augment, rng);
      const subnets = stepSubnets(space, phase, recipe, step);

      const loss = tf.tidy(() => {
        const x = tf.tensor4d(batch, [n, height, width, channels]);
        const labels = tf.oneHot(tf.tensor1d(Array.from(indices, (i) => data.train.labels[i]), 'int32'), data.numClasses) as tf.Tensor2D;
        let teacherBatch: tf.Tensor2D | null = null;
        if (useTeacher && teacher) {
          const t = new Float32Array(n * teacher.classes);
          indices.forEach((i, k) => t.set(teacher.logits.subarray(data.trainIndices[i] * teacher.classes, (data.trainIndices[i] + 1) * teacher.classes), k * teacher.classes));
          teacherBatch = tf.tensor2d(t, [n, teacher.classes]);
        }
        let sum: Record<string, tf.Tensor> = {};
        let largestLoss: tf.Scalar | null = null;
        let largestLogits: tf.Tensor2D | null = null;
        subnets.forEach((genome, k) => {
          const subPlan = planOf(genome);
          subnetMacs += n * subnetMacsOf(space, genome, dataShape);
          const input = toResolution(x, genome.resolution);
          const { value, grads } = tf.variableGrads(() => {
            const logits = subnetLogits(weights, subPlan, input, 'batch');
            let total: tf.Scalar;
            if (k === 0) {
              largestLogits = tf.keep(logits);
              total = distillationLoss(logits, labels, teacherBatch, o.distillation, o.labelSmoothing);
              if (o.weightDecay > 0) total = tf.add(total, tf.mul(tf.addN(decayed.map((w) => tf.sum(tf.square(w)))), o.weightDecay / 2));
            } else {
              // In-place distillation: the largest subnet's predictions on this batch, a constant here.
              total = distillationLoss(logits, labels, largestLogits, { temperature: 1, alpha: 1 });
            }
            return total;
          }, trainable);
          if (k === 0) largestLoss = tf.keep(value);
          for (const [name, g] of Object.entries(grads)) sum[name] = sum[name] ? tf.add(sum[name], g) : g;
        });
        optimizer!.applyGradients(sum as unknown as Record<string, tf.Variable>);
        sum = {};
        (largestLogits as tf.Tensor | null)?.dispose();
        return largestLoss!;
      });
      const lossValue = (await loss.data())[0];
      loss.dispose();
      epochLosses.push(lossValue);
      const ended = recordStep(start, step, n, lossValue, elapsed, options.onProgress);
      if (ended) {
        const epoch: SupernetEpoch = { epoch: ended.epoch, phase: phase.name, loss: epochLosses.reduce((a, b) => a + b, 0) / epochLosses.length, trainSeconds: elapsed() };
        epochLosses = [];
        epochs.push(epoch);
        if (options.onEpoch) await options.onEpoch(await capture(weights, optimizer!, ended.loop, ended.epoch), epoch);
      }
    }
    return { weights: weights.values(), plan, epochs, imagesSeen: start.imagesSeen, trainSeconds: elapsed(), subnetMacs, backend };
  } finally {
    optimizer?.dispose();
    weights.dispose();
  }
}
