/**
 * The teacher whose logits distillation imitates: the user's own ONNX
 * classifier run with onnxruntime-node, or a wide network from the search
 * space trained here. Its logits over the full training split are computed
 * once and cached on disk, keyed by a hash of the data and the teacher, so a
 * changed dataset or teacher never reuses stale logits.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { z } from 'zod';
import { userCacheDir } from '../locations.js';
import { buildTfjsModel } from '../space/build-tfjs.js';
import { writeFileAtomic } from '../space/candidate-files.js';
import { genomeId } from '../space/genome.js';
import { planNetwork } from '../space/plan.js';
import type { MobileNetSpace } from '../space/space.js';
import type { Genome, SearchSpaceConfig } from '../space/types.js';
import { selectBackend } from './backend.js';
import type { PreparedData } from './datasets/prepared.js';
import { trainCandidate, type TeacherLogits } from './distill.js';
import { accuracyFromLogits, predictLogits } from './evaluate.js';
import type { TensorSplit } from './types.js';

/** How the ONNX teacher expects its pixels. */
export const INPUT_SCALES = ['standardised', 'unit', 'imagenet', 'raw'] as const;
/** One of {@link INPUT_SCALES}. */
export type InputScale = (typeof INPUT_SCALES)[number];

/** Which teacher: a user's ONNX file, or one trained here. */
export type TeacherSpec =
  | { kind: 'onnx'; path: string; inputScale?: InputScale; layout?: 'NCHW' | 'NHWC' }
  | { kind: 'trained'; genome: Genome; strides: { stem: number; stages: number[] }; epochs: number; seed: number };

/** Teacher logits plus what a user wants to know of the teacher. */
export interface TeacherResult extends TeacherLogits {
  key: string;
  testAccuracy: number;
  description: string;
  fromCache: boolean;
}

/** A teacher that cannot be used (file, shape, classes); exits with code 5 in the CLI. */
export class TeacherError extends Error {
  readonly code = 'E_TEACHER';
  constructor(message: string) {
    super(message);
    this.name = 'TeacherError';
  }
}

/**
 * Where teacher logits are cached: `teacher/` in the user's cache directory
 * (`userCacheDir` in locations.ts), never the package's folder, which may be
 * a read-only `node_modules`.
 */
function teacherCacheDir(): string {
  return join(userCacheDir(), 'teacher');
}

/** Cache key: the data's fingerprint and everything that identifies the teacher. */
export function teacherKey(data: PreparedData, spec: TeacherSpec): string {
  const hash = createHash('sha256').update(`data:${data.fingerprint};classes:${data.numClasses};`);
  if (spec.kind === 'onnx') {
    hash.update(`onnx:${spec.inputScale ?? 'standardised'}:${spec.layout ?? 'auto'}:`);
    hash.update(readFileSync(spec.path));
  } else {
    hash.update(`trained:${genomeId(spec.genome)}:${JSON.stringify(spec.strides)}:${spec.epochs}:${spec.seed}`);
  }
  return hash.digest('hex').slice(0, 20);
}

const cacheMetaSchema = z.object({
  key: z.string(),
  count: z.number().int(),
  classes: z.number().int(),
  testAccuracy: z.number(),
  description: z.string(),
});

/** Cached logits by key, or null when absent or damaged. */
export function readCachedTeacher(key: string): TeacherResult | null {
  const meta = join(teacherCacheDir(), `${key}.json`);
  const bin = join(teacherCacheDir(), `${key}.f32`);
  if (!existsSync(meta) || !existsSync(bin)) return null;
  const parsed = cacheMetaSchema.safeParse(JSON.parse(readFileSync(meta, 'utf8')));
  const bytes = readFileSync(bin);
  if (!parsed.success || parsed.data.key !== key || bytes.length !== parsed.data.count * parsed.data.classes * 4) return null;
  const logits = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { ...parsed.data, logits, fromCache: true };
}

function writeCache(result: TeacherResult, count: number): void {
  const dir = teacherCacheDir();
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, `${result.key}.f32`), new Uint8Array(result.logits.buffer, result.logits.byteOffset, result.logits.byteLength));
  const { key, classes, testAccuracy, description } = result;
  writeFileAtomic(join(dir, `${key}.json`), JSON.stringify({ key, count, classes, testAccuracy, description }, null, 2));
}

/**
 * Logits of `spec` over `data.fullTrain()`, from the cache when they are there,
 * else computed and cached. Also measures the teacher's test accuracy.
 */
export async function teacherLogits(
  data: PreparedData,
  spec: TeacherSpec,
  onProgress?: (done: number, total: number) => void,
): Promise<TeacherResult> {
  if (spec.kind === 'onnx' && !existsSync(spec.path)) throw new TeacherError(`${spec.path}: teacher model not found`);
  const key = teacherKey(data, spec);
  const cached = readCachedTeacher(key);
  if (cached) return cached;
  const computed = spec.kind === 'onnx' ? await onnxTeacher(data, spec, onProgress) : await trainedTeacher(data, spec, onProgress);
  const result: TeacherResult = { ...computed, key, fromCache: false };
  writeCache(result, data.fullTrain().count);
  return result;
}

// #region ONNX teacher

interface OnnxInputPlan {
  layout: 'NCHW' | 'NHWC';
  channels: number;
  height: number | null;
  width: number | null;
  batch: number | null;
}

/** Reads layout, channels, size and batch from the model's first input. */
export function planOnnxInput(shape: ReadonlyArray<number | string>, forced?: 'NCHW' | 'NHWC', path = 'model'): OnnxInputPlan {
  if (shape.length !== 4) throw new TeacherError(`${path}: input has shape [${shape.join(', ')}]; expected an image batch of rank 4`);
  const num = (d: number | string) => (typeof d === 'number' && d > 0 ? d : null);
  const channelsFirst = num(shape[1]);
  const channelsLast = num(shape[3]);
  const isChannels = (d: number | null) => d === 1 || d === 3;
  const layout = forced ?? (isChannels(channelsFirst) ? 'NCHW' : isChannels(channelsLast) ? 'NHWC' : null);
  if (!layout) throw new TeacherError(`${path}: cannot tell channels from input shape [${shape.join(', ')}]; pass the layout`);
  const channels = layout === 'NCHW' ? channelsFirst : channelsLast;
  if (channels !== 1 && channels !== 3) throw new TeacherError(`${path}: input has ${channels} channels; expected 1 or 3`);
  const [height, width] = layout === 'NCHW' ? [num(shape[2]), num(shape[3])] : [num(shape[1]), num(shape[2])];
  return { layout, channels, height, width, batch: num(shape[0]) };
}

const IMAGENET = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

/** One batch of `split` shaped and scaled the way the ONNX teacher wants it. */
function teacherBatch(split: TensorSplit, start: number, n: number, plan: OnnxInputPlan, data: PreparedData, scale: InputScale): Float32Array {
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
function asLogits(values: Float32Array, classes: number): Float32Array {
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
    let input = teacherBatch(split, start, n, plan, data, scale);
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

async function onnxTeacher(
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

// #endregion

// #region Teacher trained here

/**
 * The default teacher when the user has none: the space's widest and deepest
 * network, at the resolution closest to the data's, with expansion capped at
 * 4 (the widest expansions cost the most memory and time for little accuracy).
 */
export function teacherGenome(space: SearchSpaceConfig, dataResolution: number): Genome {
  const max = (xs: number[]) => Math.max(...xs);
  const byDistance = [...space.resolutions].sort((a, b) => Math.abs(a - dataResolution) - Math.abs(b - dataResolution) || b - a);
  return {
    resolution: byDistance[0],
    stemWidth: max(space.stemWidths),
    headWidth: max(space.headWidths),
    stages: space.stages.map((s) => {
      const capped = s.expandRatios.filter((e) => e <= 4);
      return {
        width: max(s.widths),
        activation: s.activations.includes('hswish') ? 'hswish' : s.activations[0],
        squeezeExcite: s.squeezeExcite.includes(true),
        blocks: Array.from({ length: max(s.depths) }, () => ({
          kernel: s.kernelSizes.includes(5) ? 5 : s.kernelSizes[0],
          expand: capped.length ? max(capped) : Math.min(...s.expandRatios),
        })),
      };
    }),
  };
}

/** A trained-teacher spec for a space and data of `dataResolution` pixels: see {@link teacherGenome}. */
export function trainedTeacherSpec(space: MobileNetSpace, epochs: number, dataResolution: number, seed = 0): TeacherSpec {
  return {
    kind: 'trained',
    genome: teacherGenome(space.config, dataResolution),
    strides: { stem: space.config.stemStride, stages: space.config.stages.map((s) => s.stride) },
    epochs,
    seed,
  };
}

async function trainedTeacher(
  data: PreparedData,
  spec: Extract<TeacherSpec, { kind: 'trained' }>,
  onProgress?: (done: number, total: number) => void,
): Promise<Omit<TeacherResult, 'key' | 'fromCache'>> {
  await selectBackend();
  const plan = planNetwork(spec.genome, spec.strides, { numClasses: data.numClasses, inputChannels: data.train.channels });
  const model = buildTfjsModel(plan, spec.seed);
  const result = await trainCandidate(model, data, null, {
    budget: { epochs: spec.epochs },
    seed: spec.seed,
    distillation: { alpha: 0 },
    onProgress: (p) => onProgress?.(p.imagesSeen, p.imagesTotal),
  });
  const logits = predictLogits(model, data.fullTrain());
  const params = model.countParams();
  model.dispose();
  return {
    logits,
    classes: data.numClasses,
    testAccuracy: result.testAccuracy ?? 0,
    description: `trained here: genome ${genomeId(spec.genome)}, ${params} params, ${spec.epochs} epochs, seed ${spec.seed}`,
  };
}

// #endregion
