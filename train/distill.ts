/**
 * Knowledge-distillation training of one candidate:
 *   loss = α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·CE(labels, student)
 * plus L2 weight decay, with SGD-momentum or Adam under a cosine learning
 * rate. α = 0 (or no teacher logits) is plain training, the no-KD baseline.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { selectBackend } from './backend.js';
import { SGD_MOMENTUM } from './constants.js';
import { captureCheckpoint, restoreCheckpoint } from './checkpoint.js';
import type { PreparedData } from './datasets/prepared.js';
import { gatherAugmented } from './datasets/prepare.js';
import { toResolution } from './evaluate.js';
import type { TrainOptions, TrainingResult } from './types.js';
import { stemFilter, withoutImageGradient } from './kernels/image-gradient.js';
import {
  decayedWeights,
  distillationLoss,
  drawIndices,
  recordStep,
  scheduledLearningRate,
  trainingResult,
  trainingStart,
  type TeacherLogits,
} from './training-loop.js';

/**
 * Trains `model` in place on `data.train` and evaluates it. With `teacher`,
 * its logits for each training image are looked up through `data.trainIndices`.
 */
export async function trainCandidate(
  model: LayersModel,
  data: PreparedData,
  teacher: TeacherLogits | null,
  options: TrainOptions = {},
): Promise<TrainingResult> {
  const threads = options.threads ?? 1;
  if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  // Data-parallel over worker threads: its own loop (data-parallel.ts), loaded only when asked for.
  if (threads > 1) return (await import('./data-parallel.js')).trainDataParallel(model, data, teacher, options, threads);
  const backend = await selectBackend();
  const start = trainingStart(data, teacher, options);
  const { o, useTeacher, resume, rng, segmentStart, steps, continued } = start;
  const resolution = model.inputs[0].shape[1] as number;
  const { height, width, channels } = data.train;
  const imageSize = height * width * channels;
  const optimizer =
    o.optimizer === 'sgd' ? tf.train.momentum(o.learningRate, SGD_MOMENTUM) : tf.train.adam(o.learningRate);
  const setLearningRate = (lr: number) => {
    (optimizer as unknown as { learningRate: number }).learningRate = lr;
    if (o.optimizer === 'sgd') (optimizer as tf.MomentumOptimizer).setLearningRate(lr);
  };
  const variables = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const decayed = decayedWeights(model);
  const batchBuffer = new Float32Array(o.batchSize * imageSize);
  if (resume) await restoreCheckpoint(model, optimizer, resume);
  const previousSeconds = resume?.trainSeconds ?? 0;
  const started = performance.now();
  const elapsed = () => previousSeconds + (performance.now() - started) / 1000;

  for (let step = resume?.step ?? 0; step < steps; step++) {
    const n = Math.min(o.batchSize, o.totalImages - start.imagesSeen);
    const indices = drawIndices(start, n);
    const batch = batchBuffer.subarray(0, n * imageSize);
    gatherAugmented(data.train, indices, batch, o.augment, rng);
    setLearningRate(scheduledLearningRate(o.learningRate, step - segmentStart, steps - segmentStart, continued ? 0 : o.warmupSteps));

    const loss = withoutImageGradient(stemFilter(model), () => tf.tidy(() => {
      const x = toResolution(tf.tensor4d(batch, [n, height, width, channels]), resolution);
      const labels = tf.oneHot(tf.tensor1d(Array.from(indices, (i) => data.train.labels[i]), 'int32'), data.numClasses) as tf.Tensor2D;
      let teacherBatch: tf.Tensor2D | null = null;
      if (useTeacher && teacher) {
        const t = new Float32Array(n * teacher.classes);
        indices.forEach((i, k) => {
          const row = data.trainIndices[i] * teacher.classes;
          t.set(teacher.logits.subarray(row, row + teacher.classes), k * teacher.classes);
        });
        teacherBatch = tf.tensor2d(t, [n, teacher.classes]);
      }
      const { value, grads } = tf.variableGrads(() => {
        const logits = model.apply(x, { training: true }) as tf.Tensor2D;
        let total = distillationLoss(logits, labels, teacherBatch, o.distillation, o.labelSmoothing);
        if (o.weightDecay > 0 && decayed.length) {
          const l2 = tf.addN(decayed.map((w) => tf.sum(tf.square(w))));
          total = tf.add(total, tf.mul(l2, o.weightDecay / 2));
        }
        return total as tf.Scalar;
      }, variables);
      optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
      return value;
    }));
    const lossValue = (await loss.data())[0];
    loss.dispose();
    const ended = recordStep(start, step, n, lossValue, elapsed, options.onProgress);
    if (ended && options.onEpoch) await options.onEpoch(await captureCheckpoint(model, optimizer, ended.loop, ended.epoch), model);
  }
  optimizer.dispose();
  return trainingResult(model, data, options, start.stepLosses, start.imagesSeen, elapsed(), backend);
}

