import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { toFloat16Model, toHalfBits } from '../../onnx/fp16.js';
import { decodeModel } from '../../onnx/model.js';
import { buildOnnxModel } from '../../space/build-onnx.js';
import { SMALL_IMAGE_SPACE } from '../../space/defaults.js';
import { randomWeights } from '../../space/random-weights.js';
import { MobileNetSpace } from '../../space/space.js';
import seedrandom from 'seedrandom';
import { onnxFullCheck, relativeError, seededArray } from '../helpers.js';

describe('float16 export', () => {
  it('converts numbers as IEEE binary16 does (round to nearest even, subnormals, overflow)', () => {
    const cases: Array<[number, number]> = [
      [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [65504, 0x7bff], [65520, 0x7c00],
      [6.103515625e-5, 0x0400], [5.960464477539063e-8, 0x0001], [1e-9, 0x0000], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02],
    ];
    for (const [value, bits] of cases) expect(toHalfBits(value), String(value)).toBe(bits);
  });

  it('halves the file, keeps float32 input and output, passes the checker, and computes what float32 computes within float16 precision', async () => {
    const space = new MobileNetSpace(SMALL_IMAGE_SPACE, { numClasses: 10, inputChannels: 1 });
    const plan = space.plan(space.sample(seedrandom('fp16')));
    const fp32 = buildOnnxModel(plan, randomWeights(plan, 1));
    const fp16 = toFloat16Model(fp32, 'model');
    expect(fp16.length / fp32.length).toBeLessThan(0.55);
    onnxFullCheck(fp16);
    const graph = decodeModel(fp16, 'model').graph!;
    expect(graph.initializer!.every((t) => t.dataType === 10)).toBe(true); // FLOAT16
    expect(graph.input![0].type!.tensorType!.elemType).toBe(1);
    const r = plan.resolution;
    const x = new ort.Tensor('float32', seededArray(2 * r * r, 'x16'), [2, 1, r, r]);
    const reference = (await (await ort.InferenceSession.create(fp32)).run({ input: x })).logits.data as Float32Array;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(fp16);
    } catch (error) {
      // The CPU provider of this onnxruntime build may lack float16 kernels: then the file is for GPU providers only.
      expect((error as Error).message).toMatch(/float16|Could not find an implementation/i);
      return;
    }
    const out = (await session.run({ input: x })).logits.data as Float32Array;
    expect(relativeError(out, reference)).toBeLessThan(2e-2);
  });
});
