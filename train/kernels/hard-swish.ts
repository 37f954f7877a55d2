/**
 * Hard-swish, x·relu6(x + 3)/6, as one kernel (registered by register.ts for
 * wasm and cpu), and the op that uses it where the backend has it. Unfused it
 * is four forward kernels and, through autograd, about eight backward ones
 * (two of them copies: tfjs casts both factors of a product's gradient), a
 * tenth of a supernet step. The fused kernels round as the unfused ops do, so
 * either way gives the same values to the bit.
 */
import * as tf from '@tensorflow/tfjs-core';

export const HARD_SWISH = 'NasHardSwish';
export const HARD_SWISH_GRAD = 'NasHardSwishGrad';

/** Hard-swish of `x`: the fused kernel where this backend has it, else the same formula in tfjs ops. */
export function hardSwishOp<T extends tf.Tensor>(x: T): T {
  if (tf.getKernel(HARD_SWISH, tf.getBackend())) return tf.engine().runKernel(HARD_SWISH, { x }) as T;
  return tf.mul(x, tf.mul(tf.relu6(tf.add(x, 3)), 1 / 6));
}
