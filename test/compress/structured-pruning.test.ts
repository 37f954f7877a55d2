import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseRatios, keptByRatio, keptChannels, prunedGenome, prunedWeights, pruneGroups } from '../../compress/prune.js';
import { tfjsWeights } from '../../space/build-onnx.js';
import { buildTfjsModel, setModelWeights } from '../../space/build-tfjs.js';
import { planCost, planNetwork } from '../../space/plan.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { relativeError, seededArray } from '../helpers.js';

const strides = { stem: 1, stages: [1, 2, 2] };
const data = { numClasses: 10, inputChannels: 1 };
const genome: Genome = {
  resolution: 16,
  stemWidth: 8,
  headWidth: 64,
  stages: [
    { width: 8, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 1 }] },
    { width: 16, activation: 'hswish', squeezeExcite: true, blocks: [{ kernel: 5, expand: 4 }, { kernel: 3, expand: 6 }] },
    { width: 24, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 6 }] },
  ],
};

beforeAll(async () => {
  await selectBackend('wasm');
});

/** Random weights with BN variances kept positive. */
function randomise(model: ReturnType<typeof buildTfjsModel>) {
  const rng = seedrandom('prune');
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (!ws.length) continue;
    const bn = layer.getClassName() === 'BatchNormalization';
    layer.setWeights(ws.map((w, k) => tf.tensor(Float32Array.from({ length: w.size }, () => (bn && (k === 0 || k === 3) ? 0.5 + rng() : rng() - 0.5)), w.shape)));
  }
}

describe('structured pruning', () => {
  it('groups: each expand block\'s hidden width, and each stage width not tied to the previous by a residual', () => {
    // stage 0 (8 → 8, stride 1) adds a residual from the stem: tied, not a group.
    expect(pruneGroups(genome, strides, data).map((g) => [g.name, g.channels])).toEqual([['s1b0', 32], ['s1b1', 96], ['stage1', 16], ['s2b0', 96], ['stage2', 24]]);
    expect(keptChannels(96, 0.5)).toBe(48);
    expect(keptChannels(96, 0.45)).toBe(56); // 52.8 → 53 → up to 56
    expect(keptChannels(32, 0.9)).toBe(4);
  });

  it('the pruned model, weights copied before fine-tuning, computes what the original computes when the removed channels are zero', () => {
    const plan = planNetwork(genome, strides, data);
    const original = buildTfjsModel(plan, 1);
    randomise(original);
    const kept = keptByRatio(genome, plan, tfjsWeights(original), new Map([['s1b0', 0.5], ['s1b1', 0.3], ['s2b0', 0.7], ['stage1', 0.5], ['stage2', 0.5]]));
    // Zero the removed channels in the original, where they are made: the BN
    // after expand and depthwise (hidden groups), after every project of the stage (stage groups).
    const zeroAfter = (bnName: string, keep: number[]) => {
      const layer = original.getLayer(bnName);
      const [gamma, beta, mean, variance] = layer.getWeights().map((w) => w.dataSync() as Float32Array);
      const zero = (v: Float32Array) => v.map((x, c) => (keep.includes(c) ? x : 0));
      layer.setWeights([zero(gamma), zero(beta), mean, variance].map((v) => tf.tensor1d(v)));
    };
    for (const block of plan.blocks) {
      const hidden = kept.get(block.name);
      if (hidden && block.expand) for (const c of [block.expand, block.depthwise]) zeroAfter(`${c.name}_bn`, hidden);
      const stage = kept.get(`stage${block.name[1]}`);
      if (stage) zeroAfter(`${block.project.name}_bn`, stage);
    }
    const small = prunedGenome(genome, plan, kept, strides);
    expect(small.stages.map((s) => s.width)).toEqual([8, 8, 12]); // stage 0 is tied to the stem
    const smallPlan = planNetwork(small, strides, data);
    expect(smallPlan.blocks.map((b) => b.residual)).toEqual(plan.blocks.map((b) => b.residual));
    const pruned = buildTfjsModel(smallPlan, 2);
    setModelWeights(pruned, prunedWeights(genome, plan, tfjsWeights(original), kept));
    expect(pruned.countParams()).toBe(planCost(smallPlan).params);
    expect(planCost(smallPlan).macs).toBeLessThan(0.7 * planCost(plan).macs);

    const x = tf.tensor4d(seededArray(3 * 16 * 16, 'x'), [3, 16, 16, 1]);
    const a = (original.predict(x) as tf.Tensor).dataSync();
    const b = (pruned.predict(x) as tf.Tensor).dataSync();
    expect(relativeError(b, a)).toBeLessThan(1e-5);
  });

  it('ratios are chosen where accuracy suffers least, until the MACs target is met', () => {
    const sensitivity = new Map([
      // s1b0 is fragile, s2b0 robust
      ['s1b0', new Map([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((r) => [r, 0.9 - r] as [number, number]))],
      ['s1b1', new Map([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((r) => [r, 0.9 - r / 4] as [number, number]))],
      ['s2b0', new Map([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].map((r) => [r, 0.9 - r / 20] as [number, number]))],
    ]);
    const ratios = chooseRatios(genome, strides, data, 0.9, sensitivity, 0.4);
    const plan = planNetwork(genome, strides, data);
    const kept = new Map([...ratios].map(([g, r]) => [g, Array.from({ length: keptChannels(plan.blocks.find((b) => b.name === g)!.depthwise.outChannels, r) }, (_, i) => i)]));
    const reduced = planCost(planNetwork(prunedGenome(genome, plan, kept, strides), strides, data)).macs;
    expect(reduced).toBeLessThanOrEqual(0.6 * planCost(plan).macs);
    expect(ratios.get('s2b0') ?? 0).toBeGreaterThan(ratios.get('s1b0') ?? 0);
  });
});
