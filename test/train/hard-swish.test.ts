import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../train/backend.js';
import { hardSwishOp } from '../../train/kernels/hard-swish.js';
import { seededArray } from '../helpers.js';

/** The unfused formula the fused kernels replace, in tfjs ops. */
const unfused = (x: tf.Tensor) => tf.mul(x, tf.mul(tf.relu6(tf.add(x, 3)), 1 / 6));

/** Inputs spread over (−6, 6) plus the kinks at ±3 and 0, and their neighbours. */
function inputs(n: number): Float32Array {
  const x = seededArray(n, 'hard-swish').map((v) => v * 6);
  const kinks = [-3, 3, 0, Math.fround(-3 + 1e-6), Math.fround(3 - 1e-6), -6, 6, -2.9999998];
  kinks.forEach((k, i) => (x[i] = k));
  return Float32Array.from(x);
}

async function forwardAndGradient(backend: 'wasm' | 'cpu', f: (x: tf.Tensor) => tf.Tensor, n: number): Promise<[Float32Array, Float32Array]> {
  await selectBackend(backend);
  const x = tf.tensor(inputs(n), [n]);
  const dy = tf.tensor(seededArray(n, 'dy'), [n]);
  const y = f(x).dataSync() as Float32Array;
  const dx = tf.grad((t: tf.Tensor) => tf.mul(f(t), dy))(x).dataSync() as Float32Array;
  tf.dispose([x, dy]);
  return [Float32Array.from(y), Float32Array.from(dx)];
}

describe('fused hard-swish', () => {
  // 4,096 floats take the SIMD kernels on wasm, 4,093 the JavaScript loops; cpu always the loops.
  for (const [backend, n] of [['wasm', 4096], ['wasm', 4093], ['cpu', 4093]] as const) {
    it(`equals the unfused ops to the bit, values and gradient (${backend}, ${n} floats)`, async () => {
      const [y, dx] = await forwardAndGradient(backend, hardSwishOp, n);
      const [yRef, dxRef] = await forwardAndGradient(backend, unfused, n);
      expect(Buffer.compare(Buffer.from(y.buffer), Buffer.from(yRef.buffer))).toBe(0);
      expect(Buffer.compare(Buffer.from(dx.buffer), Buffer.from(dxRef.buffer))).toBe(0);
    });
  }
  it('has the derivative 0 up to −3, (2x + 3)/6 between, 1 from 3', async () => {
    await selectBackend('wasm');
    const dx = tf.grad((t: tf.Tensor) => hardSwishOp(t))(tf.tensor([-4, -3, 0, 1.5, 3, 4, -1.5, 2.25])).dataSync();
    expect(Array.from(dx)).toEqual([0, 0, 0.5, 1, 1, 1, 0, 1.25].map(Math.fround));
  });
});
