/**
 * Top-1 accuracy of an ONNX model run by onnxruntime over a whole split,
 * each batch adapted to the model's input (train/input-adapter.ts) exactly
 * as the ONNX teacher feeds it. A model whose outputs do not match the
 * data's classes gets a `skipped` result with the reason, never a crash.
 */
import * as ort from 'onnxruntime-node';
import type { PreparedData } from '../train/datasets/prepared.js';
import { accuracyFromLogits } from '../train/evaluate.js';
import { adaptBatch, type InputScale, type OnnxInputPlan } from '../train/input-adapter.js';
import type { TensorSplit } from '../train/types.js';
import { batchDims } from './calibration-data.js';

/** Batch size for accuracy runs when the model's is free. */
const EVAL_BATCH = 256;

/** Test accuracy of a model, or why it was not measured (e.g. its classes differ from the data's). */
export type { AccuracyResult } from '../benchmarks/int8-variants.js';
import type { AccuracyResult } from '../benchmarks/int8-variants.js';

/** Top-1 accuracy of an ONNX model (its first output) over a split. */
export async function onnxAccuracy(
  model: Uint8Array | string,
  split: TensorSplit,
  plan: OnnxInputPlan,
  data: Pick<PreparedData, 'normalisation' | 'numClasses'>,
  scale: InputScale = 'standardised',
): Promise<AccuracyResult> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  try {
    const size = plan.batch ?? EVAL_BATCH;
    const h = plan.height ?? split.height;
    const w = plan.width ?? split.width;
    const logits = new Float32Array(split.count * data.numClasses);
    for (let start = 0; start < split.count; start += size) {
      const n = Math.min(size, split.count - start);
      let input = adaptBatch(split, start, n, plan, data, scale);
      if (plan.batch && n < plan.batch) {
        const padded = new Float32Array((input.length / n) * plan.batch);
        padded.set(input);
        input = padded;
      }
      const out = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, batchDims(plan, plan.batch ?? n, h, w)) }))[session.outputNames[0]];
      if (out.dims.length !== 2) return { state: 'skipped', reason: `output has shape [${out.dims.join(', ')}], not [batch, classes]: accuracy not checked` };
      if (out.dims[1] !== data.numClasses) {
        return { state: 'skipped', reason: `the model has ${out.dims[1]} outputs and the data ${data.numClasses} classes: accuracy not checked` };
      }
      logits.set((out.data as Float32Array).subarray(0, n * data.numClasses), start * data.numClasses);
    }
    return { state: 'measured', accuracy: accuracyFromLogits(logits, split.labels, data.numClasses) };
  } finally {
    await session.release();
  }
}
