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
 * With `threads` > 1 the batch is cut into shards computed in worker threads
 * that hold replicas of the supernet (supernet-replica.ts), the shards'
 * gradients averaged as data-parallel.ts does for one model; batch norm then
 * normalises each shard with its own statistics, so a run is deterministic
 * for a seed and a thread count, not equal to one thread's.
 */

import { builtFile } from '../locations.js';
import type { NetworkPlan } from '../space/plan.js';
import { flatWeightSource, supernetPlan, type SupernetSpace } from '../space/supernet.js';
import { selectBackend, type BackendChoice } from './backend.js';
import { checkpointOf, type TrainingCheckpoint } from './checkpoint.js';
import { averageGradients, shardsOf, type BatchBuffers } from './data-parallel-replica.js';
import type { PreparedData } from './datasets/prepared.js';
import { gatherAugmented } from './datasets/prepare.js';
import { drawIndices, loopPosition, recordStep, scheduledLearningRate, trainingStart, type TeacherLogits } from './training-loop.js';
import { phasesOf, phaseStarts, stepSubnets, type SupernetRecipe } from './supernet-phases.js';
import { checkReplicasAgree, ReplicaThread } from './replica-thread.js';
import { SupernetReplica } from './supernet-replica.js';
import type { SupernetWorkerInit, SupernetWorkerReply, SupernetWorkerRequest } from './supernet-parallel-worker.js';
import { SupernetWeights } from './supernet-weights.js';
import type { TrainOptions } from './types.js';

export { DEFAULT_SUPERNET_RECIPE, PROGRESSIVE_PHASES, SANDWICH_PHASES, expectedStepMacs, phasesOf, phaseStarts, stepSubnets, supernetRecipe } from './supernet-phases.js';
export type { SupernetPhase, SupernetRecipe, SupernetRecipeOverrides, SupernetStrategy } from './supernet-phases.js';

/** What a training reports once an epoch ends. */
export interface SupernetEpoch {
  epoch: number;
  phase: string;
  /** Mean loss of the largest subnet over the epoch. */
  loss: number;
  trainSeconds: number;
}

/** How {@link trainSupernet} resumes, reports and parallelises; all optional. */
export interface SupernetTrainOptions {
  /** A checkpoint of the same supernet and recipe to resume from. */
  resumeFrom?: TrainingCheckpoint | null;
  /** Called at every epoch's end with a checkpoint to keep. */
  onEpoch?: (checkpoint: TrainingCheckpoint, epoch: SupernetEpoch) => void | Promise<void>;
  /**
   * Called between epochs with a checkpoint to keep, once at least
   * `checkpointSeconds` have passed since the last one (0: after every step).
   * An epoch of the full supernet takes over an hour of a core, longer than a
   * machine may stay up; resuming from such a checkpoint reaches the same
   * weights as an uninterrupted run.
   */
  onCheckpoint?: (checkpoint: TrainingCheckpoint) => void | Promise<void>;
  /** @default 600 */
  checkpointSeconds?: number;
  onProgress?: TrainOptions['onProgress'];
  /** Data-parallel threads (this one included). @default 1 */
  threads?: number;
}

/** A finished supernet training: the weights, the curve and what it cost. */
export interface SupernetTrainingResult {
  /** The trained weights, layer by layer in planWeightShapes order. */
  weights: Float32Array[];
  plan: NetworkPlan;
  epochs: SupernetEpoch[];
  imagesSeen: number;
  trainSeconds: number;
  backend: BackendChoice;
}

const shared = (bytes: number) => new SharedArrayBuffer(Math.max(4, bytes));

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
  const threads = options.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a positive integer, got ${threads}`);
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
  const initial = resume ? resume.weights : null;
  const kernelTransform = recipe.kernelTransform ?? false;
  const weights = initial ? SupernetWeights.fromSource(plan, flatWeightSource(plan, initial, kernelTransform), kernelTransform) : SupernetWeights.initial(plan, recipe.seed, kernelTransform);
  const replicaOptions = { weightDecay: o.weightDecay, distillation: o.distillation, labelSmoothing: o.labelSmoothing };
  const main = new SupernetReplica(weights, space, replicaOptions, dataShape);
  const phases = phasesOf(recipe.strategy);
  const starts = phaseStarts(phases, steps);
  const phaseAt = (step: number) => phases.findIndex((_, i) => step >= starts[i] && step < starts[i + 1]);
  const { height, width, channels } = data.train;
  const imageSize = height * width * channels;
  const buffers = {
    images: shared(4 * o.batchSize * imageSize),
    labels: shared(4 * o.batchSize),
    teacher: useTeacher ? shared(4 * o.batchSize * data.numClasses) : null,
    gradients: shared(4 * threads * main.size),
    average: shared(4 * main.size),
  };
  const batch: BatchBuffers = {
    images: new Float32Array(buffers.images),
    labels: new Int32Array(buffers.labels),
    teacher: buffers.teacher ? new Float32Array(buffers.teacher) : null,
    height,
    width,
    channels,
    numClasses: data.numClasses,
  };
  const slots = Array.from({ length: threads }, (_, i) => new Float32Array(buffers.gradients, 4 * i * main.size, main.size));
  const average = new Float32Array(buffers.average);
  const workers = Array.from(
    { length: threads - 1 },
    (_, k) =>
      Object.assign(new ReplicaThread<SupernetWorkerRequest, SupernetWorkerReply>(builtFile(import.meta.url, 'supernet-parallel-worker.js'), `supernet thread ${k + 1}`, {
        index: k + 1,
        backend: backend.name,
        space,
        dataShape,
        recipe,
        replicaOptions,
        weights: weights.values(),
        optimizerState: resume?.optimizer ?? null,
        resumeStep: resume?.step ?? null,
        steps,
        buffers: { ...buffers, shape: { height, width, channels, numClasses: data.numClasses } },
      } satisfies SupernetWorkerInit), { index: k + 1 }),
  );
  const previousSeconds = resume?.trainSeconds ?? 0;
  const started = performance.now();
  const elapsed = () => previousSeconds + (performance.now() - started) / 1000;
  const epochs: SupernetEpoch[] = [];
  const imagesPerEpoch = start.order.length;
  // The epoch's mean loss counts its steps before a resume too: the step losses are part of the checkpoint.
  const firstStepOf = (imagesSeen: number) => Math.ceil((Math.floor(imagesSeen / imagesPerEpoch) * imagesPerEpoch) / o.batchSize);
  let epochLosses = start.stepLosses.slice(firstStepOf(start.imagesSeen));
  const checkpointSeconds = options.checkpointSeconds ?? 600;
  if (!(checkpointSeconds >= 0)) throw new RangeError(`checkpointSeconds must be ≥ 0, got ${checkpointSeconds}`);
  let lastCheckpoint = performance.now();

  try {
    for (const w of workers) {
      const ready = await w.next('ready');
      if (ready.size !== main.size) throw new Error(`supernet thread ${w.index} holds ${ready.size} trainable floats, the main thread ${main.size}`);
    }
    for (let step = resume?.step ?? 0; step < steps; step++) {
      const p = phaseAt(step);
      const phase = phases[p];
      // Entering a phase (or resuming inside one): a fresh optimizer, whose momentum a resume restores; a sort only on entry.
      await main.enterPhase(p, phase, step === starts[p], resume && step === resume.step ? resume.optimizer : null);
      const learningRate = scheduledLearningRate(o.learningRate * phase.learningRateScale, step - starts[p], starts[p + 1] - starts[p], p === 0 ? o.warmupSteps : 0);

      const n = Math.min(o.batchSize, o.totalImages - start.imagesSeen);
      const indices = drawIndices(start, n);
      gatherAugmented(data.train, indices, batch.images.subarray(0, n * imageSize), o.augment, rng);
      for (let k = 0; k < n; k++) batch.labels[k] = data.train.labels[indices[k]];
      if (useTeacher && teacher) {
        indices.forEach((i, k) => batch.teacher!.set(teacher.logits.subarray(data.trainIndices[i] * teacher.classes, (data.trainIndices[i] + 1) * teacher.classes), k * teacher.classes));
      }
      const subnets = stepSubnets(space, phase, recipe, step);

      const shards = shardsOf(n, threads);
      workers.forEach((w) => w.post({ type: 'step', step, shard: shards[w.index] }));
      const losses = [main.gradients(subnets, batch, shards[0], slots[0])];
      for (const w of workers) losses.push((await w.next('gradients')).loss);
      const shares = shards.map((s) => s.count / n);
      const gradient = threads === 1 ? slots[0] : (averageGradients(slots, shares, average), average);
      for (const w of workers) w.post({ type: 'apply', step, learningRate });
      main.apply(gradient, learningRate);
      const lossValue = losses.reduce((sum, l, i) => sum + shares[i] * l, 0);

      epochLosses.push(lossValue);
      const ended = recordStep(start, step, n, lossValue, elapsed, options.onProgress);
      if (ended) {
        await checkReplicasAgree(main.flatWeights(), workers, step);
        // A recipe of fractional epochs ends inside one: that partial epoch is the next number, not the last whole one again.
        const epoch: SupernetEpoch = { epoch: ended.number, phase: phase.name, loss: epochLosses.reduce((a, b) => a + b, 0) / epochLosses.length, trainSeconds: elapsed() };
        epochLosses = [];
        epochs.push(epoch);
        if (options.onEpoch) await options.onEpoch(await checkpointOf(weights.values(), main.optimizer, ended.loop, ended.epoch), epoch);
        lastCheckpoint = performance.now();
      } else if (options.onCheckpoint && (performance.now() - lastCheckpoint) / 1000 >= checkpointSeconds) {
        await checkReplicasAgree(main.flatWeights(), workers, step);
        const epochsDone = Math.floor(start.imagesSeen / imagesPerEpoch);
        await options.onCheckpoint(await checkpointOf(weights.values(), main.optimizer, loopPosition(start, step, elapsed()), epochsDone));
        lastCheckpoint = performance.now();
      }
    }
    return { weights: weights.values(), plan, epochs, imagesSeen: start.imagesSeen, trainSeconds: elapsed(), backend };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    main.dispose();
    weights.dispose();
  }
}
