import { describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from '../../train/checkpoint.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, withTrainingSubset } from '../../train/datasets/prepared.js';
import { scheduledLearningRate, trainCandidate } from '../../train/distill.js';

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

    const whole = buildTfjsModel(plan, 1);
    const epochs: number[] = [];
    await trainCandidate(whole, data, null, { ...options, onEpoch: (c) => void epochs.push(c.epoch) });
    expect(epochs).toEqual([1, 2, 3]);

    const first = buildTfjsModel(plan, 1);
    let saved: Uint8Array | null = null;
    await expect(
      trainCandidate(first, data, null, {
        ...options,
        onEpoch: (c) => {
          saved = encodeCheckpoint(c);
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    const checkpoint: TrainingCheckpoint = decodeCheckpoint(saved!);
    expect(checkpoint.epoch).toBe(1);

    const resumed = buildTfjsModel(plan, 99); // different init: every weight must come from the checkpoint
    const result = await trainCandidate(resumed, data, null, { ...options, resumeFrom: checkpoint });
    expect(result.imagesSeen).toBe(450);
    const a = whole.getWeights().map((w) => Array.from(w.dataSync()));
    const b = resumed.getWeights().map((w) => Array.from(w.dataSync()));
    expect(b).toEqual(a);
  });

  it('a damaged checkpoint is refused with the file named', () => {
    const c: TrainingCheckpoint = { epoch: 1, step: 2, imagesSeen: 64, cursor: 3, order: Int32Array.from([2, 0, 1]), rngState: { i: 1 }, stepLosses: [1, 0.5], trainSeconds: 1, weights: [Float32Array.from([1, 2])], optimizer: [] };
    const bytes = encodeCheckpoint(c);
    const back = decodeCheckpoint(bytes);
    expect(Array.from(back.order)).toEqual([2, 0, 1]);
    expect(Array.from(back.weights[0])).toEqual([1, 2]);
    expect(() => decodeCheckpoint(bytes.subarray(0, bytes.length - 4), 'x/checkpoint.bin')).toThrow(/x\/checkpoint\.bin: .*truncated/);
  });
});
