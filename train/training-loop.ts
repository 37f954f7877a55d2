/**
 * The parts every training loop shares — the one-thread loop of distill.ts
 * and the data-parallel one of data-parallel.ts: the distillation loss, the
 * options resolved, the learning-rate schedule, the loop's start and state,
 * one step recorded, and the result at the end. Apart from both loops so
 * that neither imports the other for them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import seedrandom from 'seedrandom';
import type { BackendChoice } from './backend.js';
import {
  DEFAULT_ADAM_LEARNING_RATE,
  DEFAULT_AUGMENT,
  DEFAULT_BATCH_SIZE,
  DEFAULT_BUDGET,
  DEFAULT_DISTILLATION,
  DEFAULT_SGD_LEARNING_RATE,
  DEFAULT_WEIGHT_DECAY,
  LOSS_CURVE_POINTS,
} from './constants.js';
import { DEFAULT_BN_RECALIBRATION_IMAGES, recalibrateBatchNorm } from './batch-norm-recalibration.js';
import type { LoopState, TrainingCheckpoint } from './checkpoint.js';
import type { PreparedData } from './datasets/prepared.js';
import { permutation } from './datasets/prepare.js';
import { accuracyFromLogits, meanLogLikelihood, tfjsEvaluator } from './evaluate.js';
import type { AugmentOptions, DistillationOptions, TrainOptions, TrainingResult } from './types.js';

/** Teacher logits over the dataset's full training split, [count × classes]. */
export interface TeacherLogits {
  logits: Float32Array;
  classes: number;
}

/** The distillation loss of one batch, as a scalar (exported for tests). */
export function distillationLoss(
  studentLogits: tf.Tensor2D,
  labelsOneHot: tf.Tensor2D,
  teacherLogits: tf.Tensor2D | null,
  { temperature: T, alpha }: DistillationOptions,
  labelSmoothing = 0,
): tf.Scalar {
  return tf.tidy(() => {
    const ce = tf.losses.softmaxCrossEntropy(labelsOneHot, studentLogits, undefined, labelSmoothing) as tf.Scalar;
    if (!teacherLogits || alpha === 0) return ce;
    const teacherProbs = tf.softmax(tf.div(teacherLogits, T));
    const teacherLogProbs = tf.logSoftmax(tf.div(teacherLogits, T));
    const studentLogProbs = tf.logSoftmax(tf.div(studentLogits, T));
    const kl = tf.mean(tf.sum(tf.mul(teacherProbs, tf.sub(teacherLogProbs, studentLogProbs)), -1));
    return tf.add(tf.mul(kl, alpha * T * T), tf.mul(ce, 1 - alpha)) as tf.Scalar;
  });
}

/** {@link TrainOptions} with every default applied. */
export interface ResolvedTrainOptions {
  batchSize: number;
  totalImages: number;
  optimizer: 'sgd' | 'adam';
  learningRate: number;
  weightDecay: number;
  distillation: DistillationOptions;
  augment: AugmentOptions | false;
  seed: number;
  dataSeed: number;
  warmupSteps: number;
  labelSmoothing: number;
}

/** Applies the defaults of constants.ts and checks the options. */
export function resolve(options: TrainOptions, trainCount: number): ResolvedTrainOptions {
  const budget = options.budget ?? DEFAULT_BUDGET;
  const totalImages = 'epochs' in budget ? Math.round(budget.epochs * trainCount) : budget.images;
  if (!(totalImages > 0)) throw new RangeError(`training budget must be positive, got ${JSON.stringify(budget)}`);
  const optimizer = options.optimizer ?? 'sgd';
  const distillation = { ...DEFAULT_DISTILLATION, ...options.distillation };
  if (!(distillation.alpha >= 0 && distillation.alpha <= 1)) throw new RangeError(`distillation.alpha must be in [0, 1], got ${distillation.alpha}`);
  if (!(distillation.temperature > 0)) throw new RangeError(`distillation.temperature must be > 0, got ${distillation.temperature}`);
  return {
    batchSize: options.batchSize ?? DEFAULT_BATCH_SIZE,
    totalImages,
    optimizer,
    learningRate: options.learningRate ?? (optimizer === 'sgd' ? DEFAULT_SGD_LEARNING_RATE : DEFAULT_ADAM_LEARNING_RATE),
    weightDecay: options.weightDecay ?? DEFAULT_WEIGHT_DECAY,
    distillation,
    augment: options.augment === false ? false : { ...DEFAULT_AUGMENT, ...options.augment },
    seed: options.seed ?? 0,
    dataSeed: options.dataSeed ?? options.seed ?? 0,
    warmupSteps: Math.round(((options.warmupEpochs ?? 0) * trainCount) / (options.batchSize ?? DEFAULT_BATCH_SIZE)),
    labelSmoothing: options.labelSmoothing ?? 0,
  };
}

/**
 * The learning rate at `step` of `steps`: a linear warm-up over the first
 * `warmupSteps`, then a cosine from the peak down to 0.
 */
export function scheduledLearningRate(peak: number, step: number, steps: number, warmupSteps = 0): number {
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const progress = (step - warmupSteps) / Math.max(1, steps - warmupSteps);
  return 0.5 * peak * (1 + Math.cos(Math.PI * progress));
}

/** Conv and dense kernels: the weights weight decay applies to (not BN, not biases). */
export function decayedWeights(model: LayersModel): tf.Variable[] {
  return model.trainableWeights
    .filter((w) => /kernel$/.test(w.originalName))
    .map((w) => w.read() as tf.Variable);
}

/** Where a training loop starts: options resolved and checked, and the loop state (fresh, resumed or continued). */
export interface TrainingStart {
  o: ResolvedTrainOptions;
  useTeacher: boolean;
  resume: TrainingCheckpoint | null;
  continued: TrainingCheckpoint | null;
  rng: seedrandom.PRNG & { state(): seedrandom.State.Arc4 };
  /** A continued session is a new schedule segment starting at the checkpoint's step. */
  segmentStart: number;
  steps: number;
  stepLosses: number[];
  /** The shuffled image order and the next position in it: advanced by {@link drawIndices}. */
  order: Int32Array;
  cursor: number;
  imagesSeen: number;
}

/** The checks and state every training loop (one thread or data-parallel) begins with. */
export function trainingStart(data: PreparedData, teacher: TeacherLogits | null, options: TrainOptions): TrainingStart {
  const o = resolve(options, data.train.count);
  if (teacher && teacher.classes !== data.numClasses) {
    throw new Error(`teacher logits have ${teacher.classes} classes but the data have ${data.numClasses}`);
  }
  const useTeacher = teacher !== null && o.distillation.alpha > 0;
  if (options.resumeFrom && options.continueFrom) throw new Error('trainCandidate: give resumeFrom or continueFrom, not both');
  const continued = options.continueFrom ?? null;
  if (continued && !(o.totalImages > continued.imagesSeen)) {
    throw new RangeError(`training budget of ${o.totalImages} images is not beyond the ${continued.imagesSeen} the continued session already trained`);
  }
  const resume = options.resumeFrom ?? continued;
  const { count } = data.train;
  if (resume && resume.order.length !== count) {
    throw new RangeError(`the checkpoint's data order covers ${resume.order.length} images but this training split has ${count}: not the same data`);
  }
  // The generator's state is part of a checkpoint, so a resumed run draws what an uninterrupted one would.
  const rng = (
    resume ? seedrandom('', { state: resume.rngState as seedrandom.State.Arc4 }) : seedrandom(`train:${o.dataSeed}`, { state: true })
  ) as seedrandom.PRNG & { state(): seedrandom.State.Arc4 };
  const segmentStart = continued?.step ?? 0;
  const steps = continued ? segmentStart + Math.ceil((o.totalImages - continued.imagesSeen) / o.batchSize) : Math.ceil(o.totalImages / o.batchSize);
  return {
    o,
    useTeacher,
    resume,
    continued,
    rng,
    segmentStart,
    steps,
    stepLosses: resume ? [...resume.stepLosses] : [],
    order: resume ? resume.order : permutation(count, rng),
    cursor: resume?.cursor ?? 0,
    imagesSeen: resume?.imagesSeen ?? 0,
  };
}

/** The next `n` image indices of the loop's shuffled order, reshuffled from its generator at each epoch's end. */
export function drawIndices(state: Pick<TrainingStart, 'order' | 'cursor' | 'rng'>, n: number): Int32Array {
  const count = state.order.length;
  const indices = new Int32Array(n);
  for (let k = 0; k < n; k++) {
    if (state.cursor === count) {
      state.order = permutation(count, state.rng);
      state.cursor = 0;
    }
    indices[k] = state.order[state.cursor++];
  }
  return indices;
}

/** Where an epoch's (or the training's) last step left the loop: what a checkpoint after it holds. */
export interface EpochEnd {
  /** Whole epochs done: floor(images seen / images an epoch). */
  epoch: number;
  /**
   * The epoch this step ended, counting from 1: the one it completed, or,
   * when a budget of fractional epochs stops inside one, that partial epoch
   * (one more than `epoch`). A step that straddles an epoch's end (the
   * training split is rarely a multiple of the batch) completed that epoch.
   */
  number: number;
  loop: LoopState;
}

/**
 * Records one optimizer step of `n` images in the loop's state — its loss,
 * the images seen, the progress report — and, when the step ended an epoch or
 * the training, returns the loop's position for a checkpoint (else null).
 * Both training loops (one thread, data-parallel) go through it, so their
 * checkpoints are taken at the same steps and hold the same fields.
 */
export function recordStep(
  state: TrainingStart,
  step: number,
  n: number,
  loss: number,
  trainSeconds: () => number,
  onProgress?: TrainOptions['onProgress'],
): EpochEnd | null {
  if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} at step ${step}`);
  state.stepLosses.push(loss);
  const count = state.order.length;
  const epochBefore = Math.floor(state.imagesSeen / count);
  state.imagesSeen += n;
  onProgress?.({ imagesSeen: state.imagesSeen, imagesTotal: state.o.totalImages, loss });
  const epoch = Math.floor(state.imagesSeen / count);
  if (epoch === epochBefore && step !== state.steps - 1) return null;
  return { epoch, number: epoch > epochBefore ? epoch : epoch + 1, loop: loopPosition(state, step, trainSeconds()) };
}

/**
 * The loop's position after `step`: what a checkpoint taken there holds.
 * recordStep takes it at an epoch's end; a long loop (the supernet's) also
 * takes it between epochs, and resuming from either reaches the same weights.
 */
export function loopPosition(state: TrainingStart, step: number, trainSeconds: number): LoopState {
  const { imagesSeen, cursor, order, rng, stepLosses } = state;
  return { step: step + 1, imagesSeen, cursor, order, rngState: rng.state(), stepLosses, trainSeconds };
}

/** Batch-norm statistics for the final weights, the loss curve and the trained model's accuracies: the end of every training loop. */
export async function trainingResult(
  model: LayersModel,
  data: PreparedData,
  options: TrainOptions,
  stepLosses: number[],
  imagesSeen: number,
  trainSeconds: number,
  backend: BackendChoice,
): Promise<TrainingResult> {
  if (options.batchNormRecalibration !== false) recalibrateBatchNorm(model, data.train, options.batchNormRecalibration ?? DEFAULT_BN_RECALIBRATION_IMAGES);
  const lossCurve: number[] = [];
  const per = Math.max(1, Math.ceil(stepLosses.length / LOSS_CURVE_POINTS));
  for (let i = 0; i < stepLosses.length; i += per) {
    const chunk = stepLosses.slice(i, i + per);
    lossCurve.push(chunk.reduce((a, b) => a + b, 0) / chunk.length);
  }
  const splits = options.evaluateTest === false ? [data.validation] : [data.validation, data.test];
  const [validationLogits, testLogits] = await (options.evaluator ?? tfjsEvaluator).logits(model, splits);
  return {
    validationAccuracy: accuracyFromLogits(validationLogits, data.validation.labels, data.numClasses),
    validationLogLikelihood: meanLogLikelihood(validationLogits, data.validation.labels, data.numClasses),
    testAccuracy: testLogits && accuracyFromLogits(testLogits, data.test.labels, data.numClasses),
    lossCurve,
    imagesSeen,
    trainSeconds,
    trainImagesPerSecond: imagesSeen / trainSeconds,
    backend,
  };
}
