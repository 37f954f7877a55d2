/**
 * Calibration batches from a dataset split for any ONNX model: its first
 * input read from the file, and the split's images fed through the same
 * input adaptation as the ONNX teacher (resize, channel replication, input
 * scale, NCHW/NHWC). Here in train/ because both the search (a front
 * member's INT8 model) and compress calibrate this way; compress adds image
 * directories and tensor files (compress/calibration-data.ts).
 */
import { selectBackend } from './backend.js';
import type { PreparedData } from './datasets/prepared.js';
import { adaptBatch, InputAdaptationError, planOnnxInput, type InputScale, type OnnxInputPlan } from './input-adapter.js';
import type { TensorSplit } from './types.js';
import { CompressError, decodeModel } from '../onnx/model.js';
import type { CalibrationBatch } from '../onnx/quantize.js';

/** Images per calibration batch when the model's batch size is free. */
export const CALIBRATION_BATCH = 32;

/** A model's image input: its name, and the layout, channels and size it takes. */
export interface ModelInput {
  name: string;
  plan: OnnxInputPlan;
}

/** Reads the first input of an ONNX model and plans how images reach it. */
export function modelInput(bytes: Uint8Array, path: string, layout?: 'NCHW' | 'NHWC'): ModelInput {
  const input = decodeModel(bytes, path).graph!.input?.[0];
  if (!input) throw new CompressError(`${path}: the model has no input`);
  const shape = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : (d.dimParam ?? '?')));
  try {
    return { name: input.name!, plan: planOnnxInput(shape, layout, path) };
  } catch (error) {
    if (error instanceof InputAdaptationError) throw new CompressError(error.message);
    throw error;
  }
}

/** Batch dimensions of `n` images for the model of `plan`. */
export function batchDims(plan: OnnxInputPlan, n: number, height: number, width: number): number[] {
  return plan.layout === 'NCHW' ? [n, plan.channels, height, width] : [n, height, width, plan.channels];
}

/** Batches of `count` images of a split, adapted to the model (a fixed model batch size drops the remainder). */
export async function adaptedBatches(split: TensorSplit, count: number, plan: OnnxInputPlan, data: Pick<PreparedData, 'normalisation'>, scale: InputScale): Promise<CalibrationBatch[]> {
  await selectBackend();
  const size = plan.batch ?? CALIBRATION_BATCH;
  const total = Math.min(count, split.count);
  const h = plan.height ?? split.height;
  const w = plan.width ?? split.width;
  const batches: CalibrationBatch[] = [];
  for (let start = 0; start + (plan.batch ?? 1) <= total; start += size) {
    const n = Math.min(size, total - start);
    batches.push({ data: adaptBatch(split, start, n, plan, data, scale), dims: batchDims(plan, n, h, w) });
  }
  if (!batches.length) throw new CompressError(`the model takes batches of ${plan.batch} images; calibration has only ${total}`);
  return batches;
}
