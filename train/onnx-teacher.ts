/**
 * The user's own ONNX classifier as teacher, run with onnxruntime-node over
 * the full training split (for logits) and the test split (for accuracy),
 * each batch adapted to the model's input by input-adapter.ts.
 */
import * as ort from 'onnxruntime-node';
import { selectBackend } from './backend.js';
import type { PreparedData } from './datasets/prepared.js';
import { accuracyFromLogits } from './evaluate.js';
import { adaptBatch, asLogits, planOnnxInput, type InputScale, type OnnxInputPlan } from './input-adapter.js';
import { TeacherError, type TeacherResult, type TeacherSpec } from './teacher-types.js';
import type { TensorSplit } from './types.js';

async function runOnnx(
  session: ort.InferenceSession,
  split: TensorSplit,
  plan: OnnxInputPlan,
  data: PreparedData,
  scale: InputScale,
  path: string,
  onBatch?: (done: number) => void,
): Promise<Float32Array> {
  const batchSize = plan.batch ?? 128;
  const h = plan.height ?? split.height;
  const w = plan.width ?? split.width;
  let out: Float32Array | null = null;
  let classes = 0;
  for (let start = 0; start < split.count; start += batchSize) {
    const n = Math.min(batchSize, split.count - start);
    let input = adaptBatch(split, start, n, plan, data, scale);
    if (plan.batch && n < plan.batch) {
      // A fixed batch size: pad the last batch with zeros.
      const padded = new Float32Array((input.length / n) * plan.batch);
      padded.set(input);
      input = padded;
    }
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
  await selectBackend();
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(spec.path);
  } catch (error) {
    throw new TeacherError(`${spec.path}: not a model onnxruntime can load (${(error as Error).message.split('\n')[0]})`);
  }
  const meta = session.inputMetadata[0];
  if (!meta?.isTensor) throw new TeacherError(`${spec.path}: first input is not a tensor`);
  const plan = planOnnxInput(meta.shape, spec.layout, spec.path);
  const scale = spec.inputScale ?? 'standardised';
  const fullTrain = data.fullTrain();
  const total = fullTrain.count + data.test.count;
  const logits = await runOnnx(session, fullTrain, plan, data, scale, spec.path, (d) => onProgress?.(d, total));
  const testLogits = await runOnnx(session, data.test, plan, data, scale, spec.path, (d) => onProgress?.(fullTrain.count + d, total));
  await session.release();
  return {
    logits,
    classes: data.numClasses,
    testAccuracy: accuracyFromLogits(testLogits, data.test.labels, data.numClasses),
    description: `onnx ${spec.path} (${plan.layout}, ${plan.channels} channel(s), input scale ${scale})`,
  };
}
