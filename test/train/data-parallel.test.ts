import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import { selectBackend } from '../../train/backend.js';
import { decodeCheckpoint, encodeCheckpoint, type TrainingCheckpoint } from '../../train/checkpoint.js';
import { averageGradients, Replica, shardsOf } from '../../train/data-parallel-replica.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, withTrainingSubset, type PreparedData } from '../../train/datasets/prepared.js';
import { trainCandidate } from '../../train/distill.js';
import { expectResumeMatchesUninterrupted, TINY_GENOME, TINY_STRIDES } from './tiny-network.js';

const genome = TINY_GENOME;
const strides = TINY_STRIDES;
const plan = planNetwork(genome, strides, { numClasses: 10, inputChannels: 1 });

/** A small CNN without batch-norm: per-shard statistics do not enter, so shards must add up to the full batch exactly. */
function plainCnn(seed: number): tfl.LayersModel {
  const input = tfl.input({ shape: [28, 28, 1] });
  let x = tfl.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tfl.initializers.heNormal({ seed }) }).apply(input) as tfl.SymbolicTensor;
  x = tfl.layers.depthwiseConv2d({ kernelSize: 3, activation: 'relu', depthwiseInitializer: tfl.initializers.heNormal({ seed: seed + 1 }) }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.globalAveragePooling2d({}).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers.dense({ units: 10, kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 2 }) }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits });
}

const weightsOf = (model: tfl.LayersModel) => model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));

let data: PreparedData;
beforeAll(async () => {
  await selectBackend('wasm');
  data = withTrainingSubset(prepareData(loadDataset('fashion-mnist-sample')), 150, 0);
});

describe('data-parallel training', () => {
  it('cuts a batch into contiguous shards, the first ones one larger', () => {
    expect(shardsOf(64, 2)).toEqual([{ first: 0, count: 32 }, { first: 32, count: 32 }]);
    expect(shardsOf(10, 3)).toEqual([{ first: 0, count: 4 }, { first: 4, count: 3 }, { first: 7, count: 3 }]);
    expect(shardsOf(1, 2)).toEqual([{ first: 0, count: 1 }, { first: 1, count: 0 }]);
  });

  it('the shard gradients, weighted by shard size, are the full batch gradient (no batch-norm)', () => {
    const model = plainCnn(3);
    const options = { optimizer: 'sgd' as const, learningRate: 0.1, weightDecay: 4e-5, distillation: { alpha: 0.5, temperature: 4 }, labelSmoothing: 0.1 };
    const replica = new Replica(model, options);
    const n = 23;
    const teacher = Float32Array.from({ length: n * 10 }, (_, i) => Math.sin(i));
    const batch = { images: data.train.images.slice(0, n * 784), labels: data.train.labels.slice(0, n), teacher, height: 28, width: 28, channels: 1, numClasses: 10 };
    const full = new Float32Array(replica.size);
    const fullLoss = replica.gradients(batch, { first: 0, count: n }, full);
    const shards = shardsOf(n, 3);
    const slots = shards.map(() => new Float32Array(replica.size));
    const losses = shards.map((s, i) => replica.gradients(batch, s, slots[i]));
    const average = new Float32Array(replica.size);
    averageGradients(slots, shards.map((s) => s.count / n), average);
    const scale = Math.max(...full.map(Math.abs));
    expect(scale).toBeGreaterThan(1e-3);
    for (let j = 0; j < full.length; j++) expect(Math.abs(average[j] - full[j])).toBeLessThan(1e-5 * scale);
    expect(losses.reduce((sum, l, i) => sum + (shards[i].count / n) * l, 0)).toBeCloseTo(fullLoss, 5);
    replica.dispose();
    model.dispose();
  });

  it('three threads train a model without batch-norm as one thread does, within float rounding', async () => {
    const options = { budget: { images: 96 }, batchSize: 32, seed: 2, augment: false as const, evaluateTest: false, learningRate: 0.1 };
    const one = plainCnn(7);
    const three = plainCnn(7);
    const a = await trainCandidate(one, data, null, options);
    const b = await trainCandidate(three, data, null, { ...options, threads: 3 });
    expect(b.imagesSeen).toBe(96);
    // Three SGD-momentum steps, shards of 11, 11 and 10 images.
    const [wa, wb, initial] = [weightsOf(one), weightsOf(three), weightsOf(plainCnn(7))];
    let moved = 0;
    for (let t = 0; t < wa.length; t++) {
      for (let j = 0; j < wa[t].length; j++) {
        expect(Math.abs(wb[t][j] - wa[t][j])).toBeLessThan(1e-5 + 1e-4 * Math.abs(wa[t][j]));
        moved = Math.max(moved, Math.abs(wa[t][j] - initial[t][j]));
      }
    }
    expect(moved).toBeGreaterThan(1e-3); // training moved the weights: the comparison is not of two untouched models
    expect(b.lossCurve[0]).toBeCloseTo(a.lossCurve[0], 4);
  });

  it('two threads, same seed: the same weights to the bit, BN statistics included', async () => {
    const options = { budget: { images: 200 }, batchSize: 32, seed: 4, warmupEpochs: 0.5, evaluateTest: false, threads: 2 };
    const first = buildTfjsModel(plan, 1);
    const second = buildTfjsModel(plan, 1);
    const r1 = await trainCandidate(first, data, null, options);
    const r2 = await trainCandidate(second, data, null, options);
    expect(r2.lossCurve).toEqual(r1.lossCurve);
    expect(weightsOf(second)).toEqual(weightsOf(first));
    expect(r1.validationAccuracy).toBe(r2.validationAccuracy);
  });

  it('a two-thread run stopped after epoch 1 and resumed from its checkpoint ends with the uninterrupted run’s weights, to the bit', async () => {
    const options = { budget: { epochs: 3 }, batchSize: 32, seed: 5, labelSmoothing: 0.1, evaluateTest: false, threads: 2 };
    await expectResumeMatchesUninterrupted(plan, data, options);
  });

  it('a one-thread session continued on two threads: the checkpoint format is shared, the curve goes on', async () => {
    const options = { batchSize: 32, seed: 3, learningRate: 0.2, evaluateTest: false };
    let end: TrainingCheckpoint | null = null;
    await trainCandidate(buildTfjsModel(plan, 1), data, null, { ...options, budget: { images: 320 }, onEpoch: (c) => void (end = c) });
    const checkpoint = decodeCheckpoint(encodeCheckpoint(end!));
    let last: TrainingCheckpoint | null = null;
    const continued = await trainCandidate(buildTfjsModel(plan, 77), data, null, { ...options, budget: { images: 640 }, continueFrom: checkpoint, threads: 2, onEpoch: (c) => void (last = c) });
    expect(continued.imagesSeen).toBe(640);
    expect(last!.stepLosses).toHaveLength(20);
    expect(last!.stepLosses.slice(0, 10)).toEqual(checkpoint.stepLosses);
    // Trained on from the checkpoint's weights (the fresh model of seed 77 would start near 2.4): the first
    // losses after the switch sit near the last ones before it, below the first session's start
    // (2.36 2.38 2.27 … 2.18 | 2.19 2.15 2.10 here).
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(last!.stepLosses.slice(10, 13))).toBeLessThan(mean(checkpoint.stepLosses.slice(0, 3)) - 0.1);
    expect(Math.abs(mean(last!.stepLosses.slice(10, 13)) - mean(last!.stepLosses.slice(7, 10)))).toBeLessThan(0.15);
  });

  it('refuses a thread count that is not a positive integer', async () => {
    await expect(trainCandidate(plainCnn(1), data, null, { threads: 0 })).rejects.toThrow(/threads must be a positive integer, got 0/);
    await expect(trainCandidate(plainCnn(1), data, null, { threads: 1.5 })).rejects.toThrow(/threads must be a positive integer/);
  });
});
