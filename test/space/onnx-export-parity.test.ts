import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOnnxModel, tfjsWeights } from '../../space/build-onnx.js';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { MobileNetSpace } from '../../space/space.js';
import type { Genome } from '../../space/types.js';
import { selectBackend } from '../../train/backend.js';
import { onnxFullCheck, relativeError, seededArray } from '../helpers.js';

const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 3 });

/** Every weight replaced by seeded noise; BN variances kept positive, so folding is exercised. */
function randomiseWeights(model: ReturnType<typeof buildTfjsModel>, seed: string): void {
  const rng = seedrandom(seed);
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (!weights.length) continue;
    const isBn = layer.getClassName() === 'BatchNormalization';
    layer.setWeights(
      weights.map((w, k) =>
        tf.tensor(Float32Array.from({ length: w.size }, () => (isBn && k === 3 ? 0.5 + rng() : isBn && k === 0 ? 0.5 + rng() : (rng() - 0.5) * 0.6)), w.shape),
      ),
    );
  }
}

/** Genomes that between them use every kernel size, stride 2, SE on and off, both activations. */
function coveringGenomes(): Genome[] {
  const rng = seedrandom('parity');
  const genomes: Genome[] = [];
  for (const kernel of [3, 5, 7] as const) {
    const g = space.sample(rng);
    g.stages.forEach((s, i) => {
      if (i === 0) return;
      s.blocks.forEach((b) => (b.kernel = kernel));
      s.squeezeExcite = kernel !== 5;
      s.activation = kernel === 3 ? 'hswish' : i % 2 ? 'hswish' : 'relu6';
    });
    genomes.push(g);
  }
  genomes.push(space.sample(rng));
  return genomes;
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('ONNX export computes what the tfjs model computes', () => {
  coveringGenomes().forEach((genome, n) => {
    it(`genome ${n} (${space.id(genome)})`, async () => {
      const plan = space.plan(genome);
      const model = buildTfjsModel(plan, n);
      randomiseWeights(model, `w${n}`);
      const bytes = buildOnnxModel(plan, tfjsWeights(model));
      onnxFullCheck(bytes);

      const batch = 3;
      const r = genome.resolution;
      const nhwc = seededArray(batch * r * r * 3, `x${n}`);
      const expected = tf.tidy(() => (model.predict(tf.tensor4d(nhwc, [batch, r, r, 3])) as tf.Tensor).dataSync());
      const nchw = tf.tidy(() => tf.transpose(tf.tensor4d(nhwc, [batch, r, r, 3]), [0, 3, 1, 2]).dataSync() as Float32Array);
      const session = await ort.InferenceSession.create(bytes);
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['logits']);
      const out = await session.run({ input: new ort.Tensor('float32', nchw, [batch, 3, r, r]) });
      expect(out.logits.dims).toEqual([batch, 10]);
      expect(relativeError(out.logits.data as Float32Array, expected)).toBeLessThan(1e-4);
      await session.release();
      model.dispose();
    });
  });
});
