/**
 * The user's own ONNX classifier as teacher, run with onnxruntime-node over
 * the full training split (for logits) and the test split (for accuracy),
 * each batch adapted to the model's input by input-adapter.ts.
 */
import * as ort from 'onnxruntime-node';
import type { PreparedData } from './datasets/prepared.js';
import { accuracyFromLogits } from './evaluate.js';
import { adaptBatch, asLogits, planOnnxInput, type InputScale, type OnnxInputPlan } from './input-adapter.js';
import { TeacherError, type TeacherResult, type TeacherSpec } from './teacher-types.js';
import type { TensorSplit } from './types.js';

/** Input values per batch a teacher is fed at most (4 MiB of float32): small batches keep ResNet-sized activations in cache. */
export const TEACHER_BATCH_VALUES = 1 << 20;
/** Images per batch for small inputs. */
export const TEACHER_MAX_BATCH = 128;

/** Images per run: the model's fixed batch, else as many as fit {@link TEACHER_BATCH_VALUES}. */
export function teacherBatchSize(plan: OnnxInputPlan, split: Pick<TensorSplit, 'height' | 'width'>): number {
  if (plan.batch) return plan.batch;
  const values = plan.channels * (plan.height ?? split.height) * (plan.width ?? split.width);
  return Math.max(1, Math.min(TEACHER_MAX_BATCH, Math.floor(TEACHER_BATCH_VALUES / values)));
}

/** Session options of a teacher: full graph optimisation, `threads` intra-op threads (0: onnxruntime's choice, one per core). */
export function teacherSessionOptions(threads = 0): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', logSeverityLevel: 3 };
}

/** Logits of an ONNX model over a split, each batch adapted by input-adapter.ts; `onBatch` gets the images done. */
export async function onnxSplitLogits(
  session: ort.InferenceSession,
  split: TensorSplit,
  plan: OnnxInputPlan,
  data: PreparedData,
  scale: InputScale,
  path: string,
  onBatch?: (done: number) => void,
): Promise<Float32Array> {
  const batchSize = teacherBatchSize(plan, split);
  const h = plan.height ?? split.height;
  const w = plan.width ?? split.width;
  let out: Float32Array | null = null;
  let classes = 0;
  // One buffer for every batch; a fixed-size model's last batch is padded with zeros.
  const buffer = new Float32Array(batchSize * plan.channels * h * w);
  for (let start = 0; start < split.count; start += batchSize) {
    const n = Math.min(batchSize, split.count - start);
    const input = plan.batch ? buffer : buffer.subarray(0, n * plan.channels * h * w);
    if (plan.batch && n < plan.batch) buffer.fill(0);
    adaptBatch(split, start, n, plan, data, scale, input);
    const dims = plan.layout === 'NCHW' ? [plan.batch ?? n, plan.channels, h, w] : [plan.batch ?? n, h, w, plan.channels];
    const result = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, dims) });
    const logits = result[session.outputNames[0]];
    if (logits.dims.length !== 2) throw new TeacherError(`${path}: output has shape [${logits.dims.join(', ')}]; expected [batch, classes]`);
    classes = logits.dims[1];
    if (classes !== data.numClasses) throw new TeacherError(`${path}: output has ${classes} classes but the data have ${data.numClasses}`);
    out ??= new Float32Array(split.count * classes);
    out.set((logits.data as Float32Array).subarray(0, n * classes), start * classes);
    onBatch?.(start + n);
  }
  return asLogits(out!, classes);
}

/** Logits of a user's ONNX classifier over the full training split, and its test accuracy. */
export async function onnxTeacher(
  data: PreparedData,
  spec: Extract<TeacherSpec, { kind: 'onnx' }>,
  onProgress?: (done: number, total: number) => void,
): Promise<Omit<TeacherResult, 'key' | 'fromCache'>> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(spec.path, teacherSessionOptions(spec.threads));
  } catch (error) {
    throw new TeacherError(`${spec.path}: not a model onnxruntime can load (${(error as Error).message.split('\n')[0]})`);
  }
  const meta = session.inputMetadata[0];
  if (!meta?.isTensor) throw new TeacherError(`${spec.path}: first input is not a tensor`);
  const plan = planOnnxInput(meta.shape, spec.layout, spec.path);
  const scale = spec.inputScale ?? 'standardised';
  const fullTrain = data.fullTrain();
  const total = fullTrain.count + data.test.count;
  const logits = await onnxSplitLogits(session, fullTrain, plan, data, scale, spec.path, (d) => onProgress?.(d, total));
  const testLogits = await onnxSplitLogits(session, data.test, plan, data, scale, spec.path, (d) => onProgress?.(fullTrain.count + d, total));
  await session.release();
  return {
    logits,
    classes: data.numClasses,
    testAccuracy: accuracyFromLogits(testLogits, data.test.labels, data.numClasses),
    description: `onnx ${spec.path} (${plan.layout}, ${plan.channels} channel(s), input scale ${scale})`,
    trainSeconds: null,
    trainedOn: null,
    validationCurve: null,
  };
}
