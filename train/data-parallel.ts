/**
 * Data-parallel training of one model over `threads` threads: the training
 * loop of distill.ts (the same batches from the same generator, the same
 * schedule, loss and checkpoints), with each batch's gradient computed in
 * shards. The main thread's model is replica 0; `threads − 1` worker threads
 * (data-parallel-worker.ts) hold replicas built from its topology and
 * weights, each on its own tfjs backend.
 *
 * Each step the main thread draws the batch into shared memory, cuts it into
 * contiguous shards, and every replica computes its shard's loss and gradient
 * into its slot of a shared buffer. The main thread sums the slots weighted
 * by shard size in the fixed order 0, 1, … into a shared average, and every
 * replica applies that average with its own optimizer. All replicas start
 * from the same weights and optimizer state and run the same operations on
 * the same inputs, so they stay identical to the bit (checked at every epoch
 * and at the end). Applying everywhere costs no wall-clock time — the
 * updates run in parallel — where one replica updating and broadcasting its
 * weights would add a serial update and a weight copy per step.
 *
 * Batch-norm normalises with each shard's own statistics (as PyTorch DDP
 * without SyncBN); the moving statistics are replica 0's. A run is therefore
 * deterministic for a given seed and thread count, not equal to one thread's.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { builtFile } from '../locations.js';
import { checkReplicasAgree, ReplicaThread } from './replica-thread.js';
import { selectBackend } from './backend.js';
import { captureCheckpoint, restoreCheckpoint } from './checkpoint.js';
import { averageGradients, Replica, shardsOf, type BatchBuffers } from './data-parallel-replica.js';
import type { ReplicaInit, ReplicaReply, ReplicaRequest, SharedBuffers } from './data-parallel-protocol.js';
import type { PreparedData } from './datasets/prepared.js';
import { gatherAugmented } from './datasets/prepare.js';
import { drawIndices, recordStep, scheduledLearningRate, trainingResult, trainingStart, type TeacherLogits } from './training-loop.js';
import type { TrainOptions, TrainingResult } from './types.js';

const shared = (bytes: number) => new SharedArrayBuffer(Math.max(4, bytes));

/** Trains `model` in place over `threads` threads; see the file comment and `trainCandidate`. */
export async function trainDataParallel(
  model: LayersModel,
  data: PreparedData,
  teacher: TeacherLogits | null,
  options: TrainOptions,
  threads: number,
): Promise<TrainingResult> {
  const backend = await selectBackend();
  const start = trainingStart(data, teacher, options);
  const { o, useTeacher, resume, continued, rng, segmentStart, steps } = start;
  const { height, width, channels } = data.train;
  const imageSize = height * width * channels;
  const replicaOptions = { optimizer: o.optimizer, learningRate: o.learningRate, weightDecay: o.weightDecay, distillation: o.distillation, labelSmoothing: o.labelSmoothing };
  const main = new Replica(model, replicaOptions);
  if (resume) await restoreCheckpoint(model, main.optimizer, resume);

  const shape = { height, width, channels, numClasses: data.numClasses };
  const buffers: SharedBuffers = {
    images: shared(4 * o.batchSize * imageSize),
    labels: shared(4 * o.batchSize),
    teacher: useTeacher ? shared(4 * o.batchSize * data.numClasses) : null,
    gradients: shared(4 * threads * main.size),
    average: shared(4 * main.size),
    sequence: shared(4 * (1 + threads)),
  };
  const batch: BatchBuffers = {
    images: new Float32Array(buffers.images),
    labels: new Int32Array(buffers.labels),
    teacher: buffers.teacher ? new Float32Array(buffers.teacher) : null,
    ...shape,
  };
  const slots = Array.from({ length: threads }, (_, i) => new Float32Array(buffers.gradients, 4 * i * main.size, main.size));
  const average = new Float32Array(buffers.average);
  const sequence = new Int32Array(buffers.sequence);
  const file = builtFile(import.meta.url, 'data-parallel-worker.js');
  const base = {
    backend: backend.name,
    topology: model.toJSON(null, false) as object,
    weights: model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array)),
    optimizerState: resume?.optimizer ?? null,
    options: replicaOptions,
    shape,
    buffers,
  };
  const workers = Array.from({ length: threads - 1 }, (_, k) => Object.assign(new ReplicaThread<ReplicaRequest, ReplicaReply>(file, `data-parallel thread ${k + 1}`, { ...base, index: k + 1 } satisfies ReplicaInit), { index: k + 1 }));

  /** Every replica's trainable weights equal replica 0's, to the bit, or an error. */
  let trainSeconds: number;
  try {
    for (const w of workers) {
      const ready = await w.next('ready');
      if (ready.size !== main.size) throw new Error(`data-parallel thread ${w.index} holds ${ready.size} trainable floats, replica 0 ${main.size}`);
    }
    const previousSeconds = resume?.trainSeconds ?? 0;
    const started = performance.now();
    const elapsed = () => previousSeconds + (performance.now() - started) / 1000;
    for (let step = resume?.step ?? 0; step < steps; step++) {
      const n = Math.min(o.batchSize, o.totalImages - start.imagesSeen);
      const indices = drawIndices(start, n);
      gatherAugmented(data.train, indices, batch.images.subarray(0, n * imageSize), o.augment, rng);
      for (let k = 0; k < n; k++) batch.labels[k] = data.train.labels[indices[k]];
      if (useTeacher && teacher) {
        indices.forEach((i, k) => {
          const row = data.trainIndices[i] * teacher.classes;
          batch.teacher!.set(teacher.logits.subarray(row, row + teacher.classes), k * teacher.classes);
        });
      }
      const learningRate = scheduledLearningRate(o.learningRate, step - segmentStart, steps - segmentStart, continued ? 0 : o.warmupSteps);

      // Publish the batch, let the workers start, compute shard 0 here meanwhile.
      Atomics.store(sequence, 0, step);
      const shards = shardsOf(n, threads);
      workers.forEach((w) => shards[w.index].count > 0 && w.post({ type: 'step', step, shard: shards[w.index] }));
      const losses = [main.gradients(batch, shards[0], slots[0])];
      for (const w of workers) {
        losses.push(shards[w.index].count > 0 ? (await w.next('gradients')).loss : 0);
        if (shards[w.index].count > 0 && Atomics.load(sequence, 1 + w.index) !== step) throw new Error(`data-parallel thread ${w.index} answered out of step`);
      }
      const weights = shards.map((s) => s.count / n);
      averageGradients(slots, weights, average);
      for (const w of workers) w.post({ type: 'apply', step, learningRate });
      main.apply(average, learningRate);
      // The batch's loss: shard means weighted as the gradients are (the L2 term, the same in each, once).
      const lossValue = losses.reduce((sum, l, i) => sum + weights[i] * l, 0);

      const ended = recordStep(start, step, n, lossValue, elapsed, options.onProgress);
      if (ended) {
        await checkReplicasAgree(main.flatWeights(), workers, step);
        if (options.onEpoch) await options.onEpoch(await captureCheckpoint(model, main.optimizer, ended.loop, ended.epoch), model);
      }
    }
    trainSeconds = elapsed();
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
  main.dispose();
  return trainingResult(model, data, options, start.stepLosses, start.imagesSeen, trainSeconds, backend);
}
