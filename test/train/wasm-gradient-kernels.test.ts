import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../train/backend.js';
import { relativeError, seededArray } from '../helpers.js';

/** Runs one kernel on a backend with the same seeded inputs; returns its output values. */
async function runOn(
  backend: 'wasm' | 'cpu',
  kernel: string,
  inputs: Record<string, number[]>,
  attrs: Record<string, unknown>,
  seed: string,
): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const tensors: Record<string, tf.Tensor> = {};
    for (const [name, shape] of Object.entries(inputs)) {
      tensors[name] = tf.tensor(seededArray(tf.util.sizeFromShape(shape), `${seed}:${name}`), shape);
    }
    const out = tf.engine().runKernel(kernel, tensors, attrs as tf.NamedAttrMap) as tf.Tensor | tf.Tensor[];
    // Multi-output kernels: all outputs, concatenated.
    return Float32Array.from([out].flat().flatMap((t) => Array.from(t.dataSync())));
  });
}

async function compare(kernel: string, inputs: Record<string, number[]>, attrs: Record<string, unknown>) {
  const seed = `${kernel}:${JSON.stringify(inputs)}:${JSON.stringify(attrs)}`;
  const reference = await runOn('cpu', kernel, inputs, attrs, seed);
  const actual = await runOn('wasm', kernel, inputs, attrs, seed);
  return relativeError(actual, reference);
}

beforeAll(async () => {
  await selectBackend('cpu');
  const wasm = await selectBackend('wasm');
  expect(wasm.simdKernels).toBe('enabled');
});

describe('Conv2DBackpropFilter on wasm matches cpu', () => {
  const cases: Array<[string, number[], number[], number, 'same' | 'valid']> = [
    ['3×3 stem, stride 1', [2, 7, 9, 3], [3, 3, 3, 5], 1, 'same'],
    ['3×3, stride 2, odd size', [2, 7, 9, 3], [3, 3, 3, 5], 2, 'same'],
    ['5×5 valid', [1, 11, 8, 4], [5, 5, 4, 6], 1, 'valid'],
    ['1×1 pointwise (one matMul)', [3, 5, 5, 8], [1, 1, 8, 16], 1, 'same'],
    ['1×1 stride 2', [2, 7, 7, 6], [1, 1, 6, 4], 2, 'same'],
    // SIMD aᵀ·b: 1,024 rows in 4 row blocks, M % 4 == 2 and N % 8 == 4 (edge strips)
    ['1×1, several row blocks, ragged tiles', [4, 16, 16, 22], [1, 1, 22, 36], 1, 'same'],
    ['1×1, 2,048 rows, 4×8 tiles only', [2, 32, 32, 16], [1, 1, 16, 96], 1, 'same'],
    ['3×3 stem through im2col and the SIMD product', [2, 9, 9, 3], [3, 3, 3, 8], 2, 'same'],
  ];
  for (const [name, xShape, filterShape, stride, pad] of cases) {
    it(name, async () => {
      const info = tf.backend_util.computeConv2DInfo(
        xShape as [number, number, number, number],
        filterShape as [number, number, number, number],
        stride,
        1,
        pad,
      );
      const dyShape = [xShape[0], info.outHeight, info.outWidth, filterShape[3]];
      const err = await compare(
        'Conv2DBackpropFilter',
        { x: xShape, dy: dyShape },
        { strides: [stride, stride], pad, dataFormat: 'NHWC', filterShape },
      );
      expect(err).toBeLessThan(1e-4);
    });
  }
});

describe('Conv2DBackpropInput on wasm matches cpu', () => {
  it('1×1 takes the matMul path', async () => {
    const err = await compare(
      'Conv2DBackpropInput',
      { dy: [2, 6, 5, 12], filter: [1, 1, 7, 12] },
      { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', inputShape: [2, 6, 5, 7] },
    );
    expect(err).toBeLessThan(1e-4);
  });
  it('3×3 stride 2 still goes to the stock kernel', async () => {
    const err = await compare(
      'Conv2DBackpropInput',
      { dy: [1, 4, 4, 5], filter: [3, 3, 3, 5] },
      { strides: [2, 2], pad: 'same', dataFormat: 'NHWC', inputShape: [1, 7, 7, 3] },
    );
    expect(err).toBeLessThan(1e-4);
  });
});

describe('depthwise forward on wasm matches cpu', () => {
  // 7×7 and 3×5 run our SIMD kernel (24 channels: 16 at a time, then 4 at a time); 3×3 stays XNNPACK's; 6 channels fall back.
  for (const channels of [24, 8, 6]) {
    for (const [kh, kw] of [[7, 7], [3, 5], [3, 3]]) {
      for (const stride of [1, 2]) {
        for (const pad of ['same', 'valid'] as const) {
          it(`k${kh}×${kw} s${stride} ${pad} C${channels}`, async () => {
            const err = await compare(
              'DepthwiseConv2dNative',
              { x: [2, 11, 9, channels], filter: [kh, kw, channels, 1] },
              { strides: [stride, stride], dilations: [1, 1], pad },
            );
            expect(err).toBeLessThan(1e-5);
          });
        }
      }
    }
  }
});

describe('depthwise gradients on wasm match cpu', () => {
  // 24 channels take the SIMD paths 16 and then 4 at a time, 8 only 4 at a time, 6 the JavaScript loops.
  for (const channels of [24, 8, 6]) {
    for (const kernel of [3, 5, 7]) {
      for (const [stride, pad] of [[1, 'same'], [2, 'same'], [1, 'valid'], [2, 'valid']] as const) {
        const name = `k${kernel} s${stride} ${pad} C${channels}`;
        const xShape = [2, 9, 7, channels];
        const filterShape = [kernel, kernel, channels, 1];
        const info = tf.backend_util.computeConv2DInfo(
          xShape as [number, number, number, number],
          filterShape as [number, number, number, number],
          stride,
          1,
          pad,
          undefined,
          true,
        );
        const dyShape = [2, info.outHeight, info.outWidth, channels];
        const attrs = { strides: [stride, stride], dilations: [1, 1], pad };
        it(`input ${name}`, async () => {
          const err = await compare(
            'DepthwiseConv2dNativeBackpropInput',
            { dy: dyShape, filter: filterShape },
            { ...attrs, inputShape: xShape },
          );
          expect(err).toBeLessThan(1e-4);
        });
        it(`filter ${name}`, async () => {
          const err = await compare(
            'DepthwiseConv2dNativeBackpropFilter',
            { x: xShape, dy: dyShape },
            { ...attrs, filterShape },
          );
          expect(err).toBeLessThan(1e-4);
        });
      }
    }
  }
  it('filter gradient over a realistic batch (65k terms per sum) stays accurate', async () => {
    const err = await compare(
      'DepthwiseConv2dNativeBackpropFilter',
      { x: [64, 32, 32, 16], dy: [64, 32, 32, 16] },
      { strides: [1, 1], dilations: [1, 1], pad: 'same', filterShape: [3, 3, 16, 1] },
    );
    expect(err).toBeLessThan(1e-4);
  });
});

describe('a wasm heap past 2 GiB', () => {
  it('the SIMD kernels address tensors above 2³¹ correctly (a signed shift would throw)', async () => {
    await tf.setBackend('wasm');
    const memory = (tf.backend() as unknown as { wasm: { asm: { memory: WebAssembly.Memory } } }).wasm.asm.memory;
    // Hold 2.1 GiB so the tensors below are allocated past 2³¹.
    const big = tf.zeros([Math.ceil(2.1 * 2 ** 30 / 4)]);
    expect(memory.buffer.byteLength).toBeGreaterThan(2 ** 31);
    const bn = await compare('NasBatchNormTraining', { x: [4, 5, 5, 8], scale: [8], offset: [8] }, { epsilon: 1e-3 });
    expect(bn).toBeLessThan(1e-4);
    const dw = await compare(
      'DepthwiseConv2dNativeBackpropFilter',
      { x: [2, 6, 6, 8], dy: [2, 6, 6, 8] },
      { strides: [1, 1], dilations: [1, 1], pad: 'same', filterShape: [3, 3, 8, 1] },
    );
    expect(dw).toBeLessThan(1e-4);
    const pointwise = await compare(
      'Conv2DBackpropFilter',
      { x: [2, 6, 6, 12], dy: [2, 6, 6, 24] },
      { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, 12, 24] },
    );
    expect(pointwise).toBeLessThan(1e-4);
    big.dispose();
  });
});
