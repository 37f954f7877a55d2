/**
 * Fixtures of the training tests: a tiny genome of the search space (both
 * activations, squeeze-excite, a stride-2 stage) and a training run killed
 * at its first checkpoint, as a process killed after epoch 1 would leave it,
 * and the check that resuming from it is the uninterrupted run.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import type { NetworkPlan } from '../../space/plan.js';
import { expect } from 'vitest';
import type { Genome } from '../../space/types.js';
import { decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from '../../train/checkpoint.js';
import type { PreparedData } from '../../train/datasets/prepared.js';
import { trainCandidate } from '../../train/distill.js';
import type { TrainOptions } from '../../train/types.js';

export const TINY_GENOME: Genome = {
  resolution: 28,
  stemWidth: 8,
  headWidth: 32,
  stages: [
    { width: 8, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 1 }] },
    { width: 16, activation: 'hswish', squeezeExcite: true, blocks: [{ kernel: 3, expand: 3 }] },
  ],
};
export const TINY_STRIDES = { stem: 1, stages: [1, 2] };

/** Trains `model` until its first checkpoint, "dies" there, and returns that checkpoint read back from its bytes. */
export async function checkpointOfKilledRun(model: LayersModel, data: PreparedData, options: TrainOptions): Promise<TrainingCheckpoint> {
  let saved: Uint8Array | null = null;
  await expect(
    trainCandidate(model, data, null, {
      ...options,
      onEpoch: (c) => {
        saved = encodeCheckpoint(c);
        throw new Error('killed');
      },
    }),
  ).rejects.toThrow('killed');
  return decodeCheckpoint(saved!);
}

/**
 * Trains `plan` for 3 epochs of 150 images (`options` must say so) once
 * straight through and once killed after epoch 1 and resumed in a model
 * with other initial weights: the two must end with the same weights, to the bit.
 */
export async function expectResumeMatchesUninterrupted(plan: NetworkPlan, data: PreparedData, options: TrainOptions): Promise<void> {
  const whole = buildTfjsModel(plan, 1);
  const epochs: number[] = [];
  await trainCandidate(whole, data, null, { ...options, onEpoch: (c) => void epochs.push(c.epoch) });
  expect(epochs).toEqual([1, 2, 3]);

  const checkpoint = await checkpointOfKilledRun(buildTfjsModel(plan, 1), data, options);
  expect(checkpoint.epoch).toBe(1);

  const resumed = buildTfjsModel(plan, 99); // different init: every weight must come from the checkpoint
  const result = await trainCandidate(resumed, data, null, { ...options, resumeFrom: checkpoint });
  expect(result.imagesSeen).toBe(450);
  const weights = (m: LayersModel) => m.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
  expect(weights(resumed)).toEqual(weights(whole));
}
