/**
 * Our data as another model wants it: the layout (NCHW/NHWC), channel count,
 * size and pixel scale read from the model's input, and each batch of a
 * split converted to match. The ONNX teacher and INT8 calibration both feed
 * foreign models through this one path, so a model that works as a teacher
 * calibrates the same way.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { PreparedData } from './datasets/prepared.js';
import type { TensorSplit } from './types.js';

/** How a foreign model expects its pixels. */
export const INPUT_SCALES = ['standardised', 'unit', 'imagenet', 'raw'] as const;
export type InputScale = (typeof INPUT_SCALES)[number];

/** A model input that cannot take image batches (wrong rank, channels, layout). */
export class InputAdaptationError extends Error {
  readonly code: string;
  constructor(message: string, code = 'E_TEACHER') {
    super(message);
    this.name = 'InputAdaptationError';
    this.code = code;
  }
}

/** Layout, channels, size and batch a model's image input takes; null sizes are free. */
export interface OnnxInputPlan {
  layout: 'NCHW' | 'NHWC';
  channels: number;
  height: number | null;
  width: number | null;
  batch: number | null;
}

/** Reads layout, channels, size and batch from the model's first input. */
export function planOnnxInput(shape: ReadonlyArray<number | string>, forced?: 'NCHW' | 'NHWC', path = 'model'): OnnxInputPlan {
  if (shape.length !== 4) throw new InputAdaptationError(`${path}: input has shape [${shape.join(', ')}]; expected an image batch of rank 4`);
  const num = (d: number | string) => (typeof d === 'number' && d > 0 ? d : null);
  const channelsFirst = num(shape[1]);
  const channelsLast = num(shape[3]);
  const isChannels = (d: number | null) => d === 1 || d === 3;
  const layout = forced ?? (isChannels(channelsFirst) ? 'NCHW' : isChannels(channelsLast) ? 'NHWC' : null);
  if (!layout) throw new InputAdaptationError(`${path}: cannot tell channels from input shape [${shape.join(', ')}]; pass the layout`);
  const channels = layout === 'NCHW' ? channelsFirst : channelsLast;
  if (channels !== 1 && channels !== 3) throw new InputAdaptationError(`${path}: input has ${channels} channels; expected 1 or 3`);
  const [height, width] = layout === 'NCHW' ? [num(shape[2]), num(shape[3])] : [num(shape[1]), num(shape[2])];
  return { layout, channels, height, width, batch: num(shape[0]) };
}

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** One batch of `split` shaped and scaled the way the model of `plan` wants it. */
export function adaptBatch(split: TensorSplit, start: number, n: number, plan: OnnxInputPlan, data: Pick<PreparedData, 'normalisation'>, scale: InputScale): Float32Array {
  return tf.tidy(() => {
    const size = split.height * split.width * split.channels;
    let x: tf.Tensor4D = tf.tensor4d(split.images.subarray(start * size, (start + n) * size), [n, split.height, split.width, split.channels]);
    if (scale !== 'standardised') {
      // Undo our standardisation: back to [0, 1].
      x = tf.add(tf.mul(x, data.normalisation.std), data.normalisation.mean);
    }
    if (plan.channels === 3 && split.channels === 1) x = tf.tile(x, [1, 1, 1, 3]);
    if (plan.channels === 1 && split.channels === 3) x = tf.mean(x, 3, true);
    if (scale === 'imagenet') {
      const c = plan.channels === 3 ? IMAGENET : { mean: [0.449], std: [0.226] };
      x = tf.div(tf.sub(x, c.mean), c.std);
    } else if (scale === 'raw') {
      x = tf.mul(x, 255);
    }
    const h = plan.height ?? split.height;
    const w = plan.width ?? split.width;
    if (h !== split.height || w !== split.width) x = tf.image.resizeBilinear(x, [h, w], true);
    if (plan.layout === 'NCHW') x = tf.transpose(x, [0, 3, 1, 2]);
    return x.dataSync() as Float32Array;
  });
}

/** Turns probabilities into log-probabilities (logits up to a constant) when the model ends in softmax. */
export function asLogits(values: Float32Array, classes: number): Float32Array {
  let probabilities = true;
  for (let i = 0; i < values.length && probabilities; i += classes) {
    let sum = 0;
    for (let k = 0; k < classes; k++) {
      if (values[i + k] < 0) probabilities = false;
      sum += values[i + k];
    }
    if (Math.abs(sum - 1) > 1e-3) probabilities = false;
  }
  return probabilities ? values.map((p) => Math.log(Math.max(p, 1e-12))) : values;
}
