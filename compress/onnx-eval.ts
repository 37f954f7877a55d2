/**
 * Feeding our data to an exported model: NCHW batches at the model's
 * resolution (resized exactly as training resized them), and top-1 accuracy
 * of an ONNX model run by onnxruntime over a whole split.
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../train/backend.js';
import { accuracyFromLogits, toResolution } from '../train/evaluate.js';
import type { TensorSplit } from '../train/types.js';
import type { CalibrationBatch } from './quantize.js';

/** Images [start, start + n) of a split as an NCHW batch at `resolution`. */
export async function nchwBatch(split: TensorSplit, start: number, n: number, resolution: number): Promise<CalibrationBatch> {
  await selectBackend();
  const size = split.height * split.width * split.channels;
  const data = tf.tidy(() => {
    const x = tf.tensor4d(split.images.subarray(start * size, (start + n) * size), [n, split.height, split.width, split.channels]);
    return tf.transpose(toResolution(x, resolution), [0, 3, 1, 2]).dataSync() as Float32Array;
  });
  return { data, dims: [n, split.channels, resolution, resolution] };
}

/** Calibration batches: the first `images` of a split (callers pass a seeded shuffle if they want one). */
export async function calibrationBatches(split: TensorSplit, images: number, resolution: number, batchSize = 32): Promise<CalibrationBatch[]> {
  const batches: CalibrationBatch[] = [];
  for (let start = 0; start < Math.min(images, split.count); start += batchSize) {
    batches.push(await nchwBatch(split, start, Math.min(batchSize, Math.min(images, split.count) - start), resolution));
  }
  return batches;
}

/** Top-1 accuracy of an ONNX model (input `input`, output `logits` or its first output) over a split. */
export async function onnxAccuracy(model: Uint8Array | string, split: TensorSplit, resolution: number, classes: number): Promise<number> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  const logits = new Float32Array(split.count * classes);
  for (let start = 0; start < split.count; start += 256) {
    const n = Math.min(256, split.count - start);
    const batch = await nchwBatch(split, start, n, resolution);
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', batch.data, batch.dims) });
    logits.set(out[session.outputNames[0]].data as Float32Array, start * classes);
  }
  await session.release();
  return accuracyFromLogits(logits, split.labels, classes);
}
