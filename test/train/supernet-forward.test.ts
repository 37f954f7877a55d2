import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOnnxModel } from '../../space/build-onnx.js';
import { buildTfjsModel, setModelWeights } from '../../space/build-tfjs.js';
import { planNetwork } from '../../space/plan.js';
import { sampleGenome } from '../../space/operators.js';
import { kernelTransformShapes, sliceTensor, stridesOf, subnetWeights, supernetPlan, supernetSpace, transformKernel } from '../../space/supernet.js';
import type { Genome, SearchSpaceConfig } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { SupernetWeights, subnetLogits } from '../../train/supernet-weights.js';
import { onnxFullCheck, relativeError, seededArray } from '../helpers.js';

// Every elastic dimension: kernel 7 → 5 → 3, expand, width (stem, stages, head),
// depth, resolution; SE in one stage, both activations, a stride-1 stage
// whose first block is a residual in some subnets and not in the supernet.
const SPACE: SearchSpaceConfig = {
  resolutions: [12, 16],
  stemWidths: [8, 12],
  stemStride: 1,
  stages: [
    { depths: [1], widths: [8], expandRatios: [1], kernelSizes: [3], squeezeExcite: [false], activations: ['relu6'], stride: 1 },
    { depths: [1, 2], widths: [12, 16], expandRatios: [1, 3, 4], kernelSizes: [3, 5, 7], squeezeExcite: [true], activations: ['hswish'], stride: 2 },
    { depths: [1, 2], widths: [16, 20], expandRatios: [3, 6], kernelSizes: [3, 5], squeezeExcite: [false, true], activations: ['relu6', 'hswish'], stride: 1 },
  ],
  headWidths: [24, 32],
};
const DATA = { numClasses: 5, inputChannels: 3 };
const narrowed = supernetSpace(SPACE, { activation: 'relu6' });
const superPlan = supernetPlan(narrowed, DATA);
const planOf = (g: Genome) => planNetwork(g, stridesOf(narrowed.config), DATA);

/** The smallest, the largest, and seeded samples, with a residual that the supernet's block does not have. */
function subnets(): Genome[] {
  const rng = seedrandom('subnets');
  const sampled = Array.from({ length: 4 }, () => sampleGenome(narrowed.config, rng));
  sampled[0].stages[1].width = 16;
  sampled[0].stages[2].width = 16; // stage 2's first block: 16 → 16 at stride 1, a residual
  return [narrowed.smallest, narrowed.largest, ...sampled];
}

let weights: SupernetWeights;

beforeAll(async () => {
  await selectBackend('wasm');
  weights = SupernetWeights.initial(superPlan, 3);
  // Moving statistics away from 0 and 1, so that slicing them is exercised.
  const rng = seedrandom('moving');
  weights.assign(
    weights.all().map((v) => {
      const name = v.name;
      const k = Number(name.split('/').at(-1));
      const values = Float32Array.from(v.dataSync() as Float32Array);
      if (name.includes('_bn/') && k >= 2) for (let i = 0; i < values.length; i++) values[i] = k === 3 ? 0.5 + rng() : rng() - 0.5;
      return values;
    }),
  );
});
afterAll(() => weights.dispose());

describe('supernet space', () => {
  it('narrows the choices one set of weights cannot hold, and says which', () => {
    expect(narrowed.config.stages[1].expandRatios).toEqual([3, 4]);
    expect(narrowed.config.stages[2].activations).toEqual(['relu6']);
    expect(narrowed.config.stages[2].squeezeExcite).toEqual([false]);
    expect(narrowed.narrowed.map((n) => n.field)).toEqual(['stages[1].expandRatios', 'stages[2].activations', 'stages[2].squeezeExcite']);
    expect(narrowed.largest.stages[1].blocks).toEqual([
      { kernel: 7, expand: 4 },
      { kernel: 7, expand: 4 },
    ]);
    expect(narrowed.smallest.stages[2]).toMatchObject({ width: 16, blocks: [{ kernel: 3, expand: 3 }] });
  });
});

describe("a subnet's forward pass through the supernet equals the standalone model built from the sliced weights", () => {
  subnets().forEach((genome, n) => {
    it(`subnet ${n}`, async () => {
      const plan = planOf(genome);
      const sliced = subnetWeights(weights.source(), plan);
      const model = buildTfjsModel(plan, 99);
      setModelWeights(model, sliced);
      const batch = 4;
      const r = genome.resolution;
      const nhwc = seededArray(batch * r * r * 3, `x${n}`);
      const x = tf.tensor4d(nhwc, [batch, r, r, 3]);

      const inference = tf.tidy(() => subnetLogits(weights, plan, x, 'moving').dataSync());
      const standalone = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
      expect(relativeError(inference, standalone)).toBeLessThan(1e-5);

      // Training mode: batch statistics in both.
      const training = tf.tidy(() => subnetLogits(weights, plan, x, 'batch').dataSync());
      const standaloneTraining = tf.tidy(() => (model.apply(x, { training: true }) as tf.Tensor).dataSync());
      expect(relativeError(training, standaloneTraining)).toBeLessThan(1e-4);

      const bytes = buildOnnxModel(plan, sliced);
      onnxFullCheck(bytes);
      const session = await ort.InferenceSession.create(bytes);
      const nchw = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array);
      const out = await session.run({ input: new ort.Tensor('float32', nchw, [batch, 3, r, r]) });
      expect(relativeError(out.logits.data as Float32Array, inference)).toBeLessThan(1e-4);
      await session.release();
      x.dispose();
      model.dispose();
    });
  });
});

describe('gradients into the shared weights', () => {
  it("are the standalone model's gradients in the subnet's slice and zero outside it", () => {
    const genome = subnets()[2];
    const plan = planOf(genome);
    const model = buildTfjsModel(plan, 5);
    setModelWeights(model, subnetWeights(weights.source(), plan));
    const r = genome.resolution;
    const x = tf.tensor4d(seededArray(6 * r * r * 3, 'grad-x'), [6, r, r, 3]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32'), 5) as tf.Tensor2D;
    const loss = (logits: tf.Tensor2D) => tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;

    const reference = tf.variableGrads(() => loss(model.apply(x, { training: true }) as tf.Tensor2D), model.trainableWeights.map((w) => w.read() as tf.Variable));
    const shared = tf.variableGrads(() => loss(subnetLogits(weights, plan, x, 'batch')), weights.trainable());
    expect(relativeError(shared.value.dataSync(), reference.value.dataSync())).toBeLessThan(1e-5);

    // Layer by layer: the reference's kernel gradients against the slice of the supernet's.
    const globalScale = Math.max(...Object.values(reference.grads).map((g) => Math.max(...Array.from(g.dataSync(), Math.abs))));
    let compared = 0;
    for (const w of model.trainableWeights) {
      const layer = w.originalName.split('/')[0];
      const k = ['kernel', 'gamma', 'depthwise_kernel'].includes(w.originalName.split('/')[1]) ? 0 : 1;
      const variable = weights.layer(layer)[k];
      const full = shared.grads[variable.name];
      expect(full.shape).toEqual(variable.shape);
      const begin = full.shape.map((size, axis) => (full.rank === 4 && axis < 2 ? (size - w.shape[axis]!) / 2 : 0));
      const inSlice = tf.slice(full, begin, w.shape as number[]).dataSync();
      const ref = reference.grads[w.read().name].dataSync();
      const scale = Math.max(Math.max(...Array.from(ref, Math.abs)), 1e-2 * globalScale);
      let diff = 0;
      ref.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - inSlice[i]))));
      expect(diff / scale, `${w.originalName}`).toBeLessThan(1e-3);
      // Outside the slice: nothing.
      const total = Array.from(full.dataSync(), Math.abs).reduce((a, b) => a + b, 0);
      const inside = Array.from(inSlice, Math.abs).reduce((a, b) => a + b, 0);
      expect(Math.abs(total - inside)).toBeLessThanOrEqual(1e-6 * Math.max(1, total));
      compared++;
    }
    expect(compared).toBe(model.trainableWeights.length);
  });
});

describe("Once-for-All's kernel transformation matrices", () => {
  it('identity matrices give the bare centre; others give the centre times them, channel by channel', () => {
    const rng = seedrandom('kt');
    const kernel = { shape: [7, 7, 3, 1], values: Float32Array.from({ length: 147 }, () => rng() - 0.5) };
    const identity = kernelTransformShapes(7).map(([n]) => ({ shape: [n, n], values: Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)) }));
    expect(kernelTransformShapes(7)).toEqual([[25, 25], [9, 9]]);
    expect(Array.from(transformKernel(kernel, 3, identity).values)).toEqual(Array.from(sliceTensor(kernel, [2, 2, 0, 0], [3, 3, 3, 1]).values));
    // One step 5 → 3 with a matrix that reverses the 9 taps: the centre 3×3 read backwards.
    const small = sliceTensor(kernel, [1, 1, 0, 0], [5, 5, 3, 1]);
    const reverse = { shape: [9, 9], values: Float32Array.from({ length: 81 }, (_, i) => (Math.floor(i / 9) + (i % 9) === 8 ? 1 : 0)) };
    const centre = sliceTensor(small, [1, 1, 0, 0], [3, 3, 3, 1]).values;
    const out = transformKernel(small, 3, [reverse]).values;
    for (let tap = 0; tap < 9; tap++) for (let c = 0; c < 3; c++) expect(out[tap * 3 + c]).toBe(centre[(8 - tap) * 3 + c]);
  });

  it("a subnet's forward pass through learned matrices equals the standalone model and ONNX export built from the transformed weights, and its gradient reaches the matrices", async () => {
    const kt = SupernetWeights.initial(superPlan, 4, true);
    const rng = seedrandom('matrices');
    kt.assign(kt.all().map((v) => (v.name.includes('_kt/') ? Float32Array.from(v.dataSync() as Float32Array, (x) => x + (rng() - 0.5) * 0.4) : Float32Array.from(v.dataSync() as Float32Array))));
    const genome = structuredClone(narrowed.largest);
    genome.stages[1].blocks = [{ kernel: 3, expand: 3 }, { kernel: 5, expand: 4 }];
    genome.stages[2].blocks = [{ kernel: 3, expand: 6 }];
    const plan = planOf(genome);
    const sliced = subnetWeights(kt.source(), plan, true);
    const model = buildTfjsModel(plan, 1);
    setModelWeights(model, sliced);
    const r = genome.resolution;
    const x = tf.tensor4d(seededArray(3 * r * r * 3, 'kt-x'), [3, r, r, 3]);
    const ours = tf.tidy(() => subnetLogits(kt, plan, x, 'moving').dataSync());
    expect(relativeError(ours, tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync()))).toBeLessThan(1e-5);
    const session = await ort.InferenceSession.create(buildOnnxModel(plan, sliced));
    const nchw = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array);
    const out = await session.run({ input: new ort.Tensor('float32', nchw, [3, 3, r, r]) });
    expect(relativeError(out.logits.data as Float32Array, ours)).toBeLessThan(1e-4);
    await session.release();

    const labels = tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), 5) as tf.Tensor2D;
    const { grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, subnetLogits(kt, plan, x, 'batch')) as tf.Scalar, kt.trainable());
    const norm = (name: string, k: number) => Math.max(...Array.from(grads[kt.layer(name)[k].name]?.dataSync() ?? [0], Math.abs));
    // s1b0 goes 7 → 5 → 3 (both matrices), s1b1 7 → 5 (the first only); stage 2's largest kernel is 5, its block uses 3.
    expect(norm('s1b0_dw_kt', 0)).toBeGreaterThan(0);
    expect(norm('s1b0_dw_kt', 1)).toBeGreaterThan(0);
    expect(norm('s1b1_dw_kt', 0)).toBeGreaterThan(0);
    expect(norm('s1b1_dw_kt', 1)).toBe(0);
    expect(norm('s2b0_dw_kt', 0)).toBeGreaterThan(0);
    // Weight decay leaves the matrices alone.
    expect(kt.decayed().some((v) => v.name.includes('_kt/'))).toBe(false);
    x.dispose();
    model.dispose();
    kt.dispose();
  });
});
