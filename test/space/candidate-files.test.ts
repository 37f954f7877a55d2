import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as ort from 'onnxruntime-node';
import seedrandom from 'seedrandom';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTfjsModel } from '../../space/build-tfjs.js';
import { describeGenome, readGenomeFile, reexportCandidate, saveCandidate } from '../../space/candidate-files.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { SpaceConfigError } from '../../space/schema.js';
import { MobileNetSpace } from '../../space/space.js';
import { selectBackend } from '../../train/backend.js';
import { relativeError, seededArray } from '../helpers.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('a candidate directory', () => {
  const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
  const genome = space.sample(seedrandom('files'));
  const strides = { stem: 1, stages: SMALL_IMAGE_SPACE.stages.map((s) => s.stride) };
  const data = { numClasses: 10, inputChannels: 1, mean: [0.286], std: [0.353] };

  it('round-trips: standard tfjs loader, ORT, and genome.json all agree with the saved model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'candidate-'));
    const model = buildTfjsModel(space.plan(genome), 3);
    const file = describeGenome(genome, strides, data);
    await saveCandidate(dir, file, model);

    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    expect(json.format).toBe('layers-model');
    const classNames = new Set(json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name));
    expect([...classNames].sort()).toEqual(expect.arrayContaining(['BatchNormalization', 'Conv2D', 'DepthwiseConv2D', 'Dense']));

    // The stock loader, fed the two files, rebuilds the same function.
    const weights = readFileSync(join(dir, 'weights.bin'));
    const loaded = await tfl.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) }),
    );
    const r = genome.resolution;
    const x = seededArray(2 * r * r, 'files-x');
    const predict = (m: tfl.LayersModel) => tf.tidy(() => (m.predict(tf.tensor4d(x, [2, r, r, 1])) as tf.Tensor).dataSync() as Float32Array);
    expect(relativeError(predict(loaded), predict(model))).toBeLessThan(1e-6);

    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
    const out = await session.run({ input: new ort.Tensor('float32', x, [2, 1, r, r]) });
    expect(relativeError(out.logits.data as Float32Array, predict(model))).toBeLessThan(1e-4);
    await session.release();

    const back = readGenomeFile(dir);
    expect(back.id).toBe(space.id(genome));
    expect(back.genome).toEqual(genome);
    expect(back.params).toBe(model.countParams());

    // nas export rewrites the same ONNX bytes from the tfjs weights.
    const before = readFileSync(join(dir, 'model.onnx'));
    writeFileSync(join(dir, 'model.onnx'), 'stale');
    await reexportCandidate(dir);
    expect(Buffer.compare(readFileSync(join(dir, 'model.onnx')), before)).toBe(0);
  });

  it('a damaged genome.json gets an error naming the file and field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'candidate-'));
    const file = describeGenome(genome, strides, data) as unknown as Record<string, unknown>;
    writeFileSync(join(dir, 'genome.json'), JSON.stringify({ ...file, macs: 'many' }));
    expect(() => readGenomeFile(dir)).toThrow(SpaceConfigError);
    expect(() => readGenomeFile(dir)).toThrow(/genome\.json: macs: /);
  });
});
