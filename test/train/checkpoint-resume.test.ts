import { describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from '../../train/checkpoint.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, withTrainingSubset } from '../../train/datasets/prepared.js';
import { trainCandidate } from '../../train/distill.js';
import { scheduledLearningRate } from '../../train/training-loop.js';
import { expectResumeMatchesUninterrupted } from './tiny-network.js';

const genome: Genome = {
  resolution: 28,
  stemWidth: 8,
  headWidth: 32,
  stages: [
    { width: 8, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 1 }] },
    { width: 16, activation: 'hswish', squeezeExcite: true, blocks: [{ kernel: 3, expand: 3 }, { kernel: 5, expand: 3 }] },
  ],
};
const strides = { stem: 1, stages: [1, 2] };

describe('training checkpoints', () => {
  it('warm-up then cosine: the schedule against hand-computed values', () => {
    expect(scheduledLearningRate(0.1, 0, 100, 0)).toBeCloseTo(0.1, 12);
    expect(scheduledLearningRate(0.1, 50, 100, 0)).toBeCloseTo(0.05, 12);
    expect(scheduledLearningRate(0.1, 0, 100, 10)).toBeCloseTo(0.01, 12);
    expect(scheduledLearningRate(0.1, 9, 100, 10)).toBeCloseTo(0.1, 12);
    expect(scheduledLearningRate(0.1, 10, 100, 10)).toBeCloseTo(0.1, 12);
    expect(scheduledLearningRate(0.1, 55, 100, 10)).toBeCloseTo(0.05, 12);
  });

  it('a run stopped after epoch 1 and resumed from its checkpoint ends with the same weights, to the bit', async () => {
    await selectBackend('wasm');
    const data = withTrainingSubset(prepareData(loadDataset('fashion-mnist-sample')), 150, 0);
    const plan = planNetwork(genome, strides, { numClasses: 10, inputChannels: 1 });
    const options = { budget: { epochs: 3 }, batchSize: 32, seed: 5, warmupEpochs: 0.5, labelSmoothing: 0.1, evaluateTest: false };

    await expectResumeMatchesUninterrupted(plan, data, options);
  });

  it('a promotion trains on from the previous session: its loss curve goes on where that one ended, on a new cosine segment', async () => {
    await selectBackend('wasm');
    const data = withTrainingSubset(prepareData(loadDataset('fashion-mnist-sample')), 160, 0);
    const plan = planNetwork(genome, strides, { numClasses: 10, inputChannels: 1 });
    const options = { batchSize: 32, seed: 3, learningRate: 0.2, evaluateTest: false };

    const rung0 = buildTfjsModel(plan, 1);
    let end: TrainingCheckpoint | null = null;
    const first = await trainCandidate(rung0, data, null, { ...options, budget: { images: 320 }, onEpoch: (c) => void (end = c) });
    expect(first.imagesSeen).toBe(320);
    const checkpoint = decodeCheckpoint(encodeCheckpoint(end!));
    expect(checkpoint.stepLosses).toHaveLength(10);

    const promoted = buildTfjsModel(plan, 77); // every weight must come from the checkpoint
    let last: TrainingCheckpoint | null = null;
    const second = await trainCandidate(promoted, data, null, { ...options, budget: { images: 960 }, continueFrom: checkpoint, onEpoch: (c) => void (last = c) });
    expect(second.imagesSeen).toBe(960);
    const losses = last!.stepLosses;
    expect(losses).toHaveLength(30);
    expect(losses.slice(0, 10)).toEqual(checkpoint.stepLosses); // the same curve, continued
    // Continuous: the first steps after the promotion sit near the last ones before it,
    // well below where the fresh model started (2.40 2.30 2.24 … 1.97 | 2.07 1.86 1.89 here).
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(10, 13))).toBeLessThan(mean(losses.slice(0, 3)) - 0.2);
    expect(Math.abs(mean(losses.slice(10, 13)) - mean(losses.slice(7, 10)))).toBeLessThan(0.3);
    // The data order carried over: the continued session read on from the checkpoint's cursor.
    expect(last!.imagesSeen).toBe(960);

    // Not beyond the budget already trained, or both resume and continue: refused.
    await expect(trainCandidate(buildTfjsModel(plan, 1), data, null, { ...options, budget: { images: 320 }, continueFrom: checkpoint })).rejects.toThrow(/not beyond the 320/);
    await expect(trainCandidate(buildTfjsModel(plan, 1), data, null, { ...options, budget: { images: 640 }, continueFrom: checkpoint, resumeFrom: checkpoint })).rejects.toThrow(/not both/);
  });

  it('the schedule of a continued session restarts at the peak and ends at zero', () => {
    // trainCandidate calls scheduledLearningRate(peak, step − segmentStart, steps − segmentStart, 0) for a continued session.
    expect(scheduledLearningRate(0.05, 0, 20, 0)).toBeCloseTo(0.05, 12);
    expect(scheduledLearningRate(0.05, 19, 20, 0)).toBeCloseTo(0.05 * 0.5 * (1 + Math.cos((Math.PI * 19) / 20)), 12);
  });

  it('a damaged checkpoint is refused with the file named', () => {
    const c: TrainingCheckpoint = { epoch: 1, step: 2, imagesSeen: 64, cursor: 3, order: Int32Array.from([2, 0, 1]), rngState: { i: 1 }, stepLosses: [1, 0.5], trainSeconds: 1, weights: [Float32Array.from([1, 2])], optimizer: [] };
    const bytes = encodeCheckpoint(c);
    const back = decodeCheckpoint(bytes);
    expect(Array.from(back.order)).toEqual([2, 0, 1]);
    expect(Array.from(back.weights[0])).toEqual([1, 2]);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'x/checkpoint.bin')).toThrow(/x\/checkpoint\.bin: .*truncated/);
    // A Node Buffer at an offset inside a larger pool (base64 from a queue job, a file read): the same values.
    const pooled = Buffer.concat([Buffer.from([7, 7, 7]), Buffer.from(bytes)]).subarray(3);
    expect(pooled.byteOffset).toBeGreaterThan(0);
    const fromBase64 = decodeCheckpoint(Buffer.from(Buffer.from(bytes).toString('base64'), 'base64'));
    for (const decoded of [decodeCheckpoint(pooled), fromBase64]) {
      expect(Array.from(decoded.weights[0])).toEqual([1, 2]);
      expect(Array.from(decoded.order)).toEqual([2, 0, 1]);
    }
  });
});
