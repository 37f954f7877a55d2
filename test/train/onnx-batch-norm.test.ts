import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOnnxModel, buildOnnxStatisticsModel, tfjsWeights } from '../../space/build-onnx.js';
import { buildTfjsModel, setModelWeights } from '../../space/build-tfjs.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import { randomWeights } from '../../space/random-weights.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { recalibrateBatchNorm } from '../../train/batch-norm-recalibration.js';
import { loadDataset } from '../../train/datasets/load.js';
import { prepareData, withTrainingSubset, type PreparedData } from '../../train/datasets/prepared.js';
import { onnxBatchNormStatistics, withBatchNormStatistics } from '../../train/onnx-batch-norm.js';
import { onnxLogits, OnnxSplitRunner } from '../../train/onnx-evaluate.js';
import { onnxFullCheck } from '../helpers.js';

const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
let data: PreparedData;

/** Sampled genomes until one has squeeze-excite, a residual, both activations and a resolution other than the data's 28. */
function variedGenome(): Genome {
  const rng = seedrandom('bn-onnx');
  for (let i = 0; i < 500; i++) {
    const g = space.sample(rng);
    const plan = space.plan(g);
    const activations = new Set(g.stages.map((s) => s.activation));
    if (g.resolution !== 28 && plan.blocks.some((b) => b.squeezeExcite) && plan.blocks.some((b) => b.residual) && activations.size === 2) return g;
  }
  throw new Error('no such genome in the sample');
}

beforeAll(async () => {
  await selectBackend('wasm');
  data = withTrainingSubset(prepareData(loadDataset('fashion-mnist-sample')), 300, 0);
});

describe('batch-norm statistics through onnxruntime', () => {
  it("equal tfjs's recalibration layer by layer (every BN on its batch's statistics, the mean over whole batches), on a resized split", async () => {
    const genome = variedGenome();
    const plan = space.plan(genome);
    const weights = randomWeights(plan, 5);
    const { bytes, statistics } = buildOnnxStatisticsModel(plan, weights, 64);
    onnxFullCheck(bytes);
    // Every conv of the plan has its BN's two outputs.
    expect(statistics.length).toBe(2 + plan.blocks.reduce((n, b) => n + (b.expand ? 3 : 2), 0));

    const model = buildTfjsModel(plan, 0);
    setModelWeights(model, weights);
    expect(recalibrateBatchNorm(model, data.train, 200)).toBe(192); // 3 whole batches of 64
    const reference = tfjsWeights(model);
    const fresh = await onnxBatchNormStatistics(plan, weights, data.train, 200);
    expect([...fresh.keys()]).toEqual(statistics.map((s) => s.layer));
    // Float32 sums in another order (tfjs's fused kernel keeps one running sum per channel over 64·H·W values, about
    // 1e-4 off at 50,000 terms): each layer's errors against its own scale, since a channel's mean can sit near 0.
    let worst = 0;
    for (const [layer, s] of fresh) {
      const [, , mean, variance] = reference(layer);
      const meanScale = Math.max(...mean.values.map(Math.abs));
      const varianceScale = Math.max(...variance.values);
      for (let c = 0; c < s.mean.length; c++) {
        worst = Math.max(worst, Math.abs(s.mean[c] - mean.values[c]) / meanScale, Math.abs(s.variance[c] - variance.values[c]) / varianceScale);
      }
    }
    expect(worst).toBeLessThan(5e-4);
    model.dispose();

    // γ, β and every other layer pass through; only the moving statistics change.
    const replaced = withBatchNormStatistics(weights, fresh);
    const [gamma, beta, mean] = replaced('stem_bn');
    expect(gamma).toEqual(weights('stem_bn')[0]);
    expect(beta).toEqual(weights('stem_bn')[1]);
    expect(mean.values).toEqual(fresh.get('stem_bn')!.mean);
    expect(replaced(plan.classifier.name)).toEqual(weights(plan.classifier.name));
  });

  it('give the deployed model the logits of the tfjs-recalibrated one', async () => {
    const genome = variedGenome();
    const plan = space.plan(genome);
    const weights = randomWeights(plan, 7);
    const viaOnnx = withBatchNormStatistics(weights, await onnxBatchNormStatistics(plan, weights, data.train, 128));
    const runner = await OnnxSplitRunner.fromBytes(plan, buildOnnxModel(plan, viaOnnx));
    const ours = await runner.logits(data.validation);
    await runner.release();
    const model = buildTfjsModel(plan, 0);
    setModelWeights(model, weights);
    recalibrateBatchNorm(model, data.train, 128);
    const [theirs] = await onnxLogits(plan, model, [data.validation]);
    model.dispose();
    let scale = 0;
    let diff = 0;
    for (let i = 0; i < ours.length; i++) (scale = Math.max(scale, Math.abs(theirs[i]))), (diff = Math.max(diff, Math.abs(ours[i] - theirs[i])));
    expect(diff / scale).toBeLessThan(1e-3);
  });
});
