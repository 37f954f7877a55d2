import { describe, expect, it } from 'vitest';
import type { SearchSpaceConfig } from '../../space/types.js';
import { supernetSpace } from '../../space/supernet.js';
import { selectBackend } from '../../train/backend.js';
import type { TrainingCheckpoint } from '../../train/checkpoint.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, withTrainingSubset } from '../../train/datasets/prepared.js';
import { DEFAULT_SUPERNET_RECIPE, trainSupernet, type SupernetRecipe } from '../../train/supernet-train.js';

const SPACE: SearchSpaceConfig = {
  resolutions: [20, 24],
  stemWidths: [8],
  stemStride: 2,
  stages: [
    { depths: [1], widths: [8], expandRatios: [1], kernelSizes: [3], squeezeExcite: [false], activations: ['relu6'], stride: 1 },
    { depths: [1, 2], widths: [8, 12], expandRatios: [2, 3], kernelSizes: [3, 5], squeezeExcite: [true], activations: ['hswish'], stride: 2 },
  ],
  headWidths: [16, 24],
};

describe('data-parallel supernet training', () => {
  it('two threads keep their replicas identical, repeat to the bit, resume to the same weights from an epoch’s end or between epochs, and differ from one thread only by shard statistics', async () => {
    await selectBackend('wasm');
    const data = withTrainingSubset(prepareData(loadDataset('fashion-mnist-sample')), 256, 0);
    const space = supernetSpace(SPACE);
    // Progressive shrinking: phase entries, the channel sort and fresh momentum happen on both threads; kernel transformation matrices train on both.
    const recipe: SupernetRecipe = { ...DEFAULT_SUPERNET_RECIPE, strategy: 'progressive', epochs: 4, batchSize: 32, distillation: { temperature: 4, alpha: 0 }, kernelTransform: true };
    const a = await trainSupernet(space, data, null, recipe, { threads: 2 });
    const b = await trainSupernet(space, data, null, recipe, { threads: 2 });
    // 32 steps: phases start at steps 0, 8, 14 and 22, so epochs end (steps 7, 15, 23, 31) in these.
    expect(a.epochs.map((e) => e.phase)).toEqual(['largest', 'depth', 'expand and width', 'expand and width']);
    a.weights.forEach((w, i) => expect(Buffer.compare(Buffer.from(w.buffer), Buffer.from(b.weights[i].buffer)), `tensor ${i}`).toBe(0));

    const sameWeights = (weights: Float32Array[]) =>
      weights.forEach((w, i) => expect(Buffer.compare(Buffer.from(w.buffer), Buffer.from(a.weights[i].buffer)), `tensor ${i}`).toBe(0));
    // A training on two threads killed at the first checkpoint `stopAt` accepts; that checkpoint.
    const killedAt = async (stopAt: (c: TrainingCheckpoint) => boolean, where: 'epoch' | 'between'): Promise<TrainingCheckpoint> => {
      let saved: TrainingCheckpoint | null = null;
      const keep = (c: TrainingCheckpoint) => {
        if (!stopAt(c)) return;
        saved = c;
        throw new Error('killed');
      };
      const hooks = where === 'epoch' ? { onEpoch: keep } : { checkpointSeconds: 0, onCheckpoint: keep };
      await expect(trainSupernet(space, data, null, recipe, { threads: 2, ...hooks })).rejects.toThrow('killed');
      return saved!;
    };

    // Killed after epoch 2 (inside the third phase's first epoch boundary), resumed on two threads.
    const afterEpoch2 = await killedAt((c) => c.epoch === 2, 'epoch');
    sameWeights((await trainSupernet(space, data, null, recipe, { threads: 2, resumeFrom: afterEpoch2 })).weights);

    // Killed between epochs (step 11 of 32, inside the second phase), from a checkpoint taken there.
    const midway = await killedAt((c) => c.step === 11, 'between');
    expect(midway.epoch).toBe(1);
    const fromMidway = await trainSupernet(space, data, null, recipe, { threads: 2, resumeFrom: midway });
    sameWeights(fromMidway.weights);
    expect(fromMidway.epochs.map((e) => [e.epoch, e.loss])).toEqual(a.epochs.slice(1).map((e) => [e.epoch, e.loss]));

    const one = await trainSupernet(space, data, null, recipe, { threads: 1 });
    expect(one.epochs.every((e) => Number.isFinite(e.loss))).toBe(true);
    expect(one.weights.some((w, i) => Buffer.compare(Buffer.from(w.buffer), Buffer.from(a.weights[i].buffer)) !== 0)).toBe(true);
  });
});
