/**
 * Evaluation through onnxruntime: the model's current weights exported to
 * ONNX in memory (the same graph as the deployment artefact, BN folded), and
 * every split run through one session. On the reference net and the search's
 * candidates this is several times faster than tfjs-wasm predict (see
 * `npm run bench:evaluate`), and its predictions are the deployed model's.
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { buildOnnxModel, tfjsWeights } from '../space/build-onnx.js';
import type { NetworkPlan } from '../space/plan.js';
import { accuracyFromLogits, toResolution } from './evaluate.js';
import type { SplitEvaluator, TensorSplit } from './types.js';

/**
 * Images per onnxruntime run: large enough to amortise a call, small enough
 * that a layer's activations stay in cache. Measured on AMD EPYC Zen 5 (one
 * thread, the other core busy): 3,072 images through 6 subnets of the
 * supernet space took 1,076 / 1,022 / 1,004 / 1,192 / 1,473 ms a subnet at
 * batches of 8 / 16 / 32 / 64 / 128 (a 32 px map of 96 channels is 12.6 MB
 * at 128 images, 3.1 MB at 32).
 */
export const ONNX_EVAL_BATCH_SIZE = 32;
/** Threads per session: search workers already fill the cores one model each. */
export const ONNX_EVAL_THREADS = 1;

export interface OnnxEvaluateOptions {
  /** onnxruntime intra-op threads. @default 1 ({@link ONNX_EVAL_THREADS}) */
  threads?: number;
  /** Images per run. @default 32 ({@link ONNX_EVAL_BATCH_SIZE}) */
  batchSize?: number;
}

/** NHWC → NCHW into `out` (a plain copy for one channel, where the two layouts coincide). */
export function nhwcToNchw(src: Float32Array, n: number, h: number, w: number, c: number, out = new Float32Array(src.length)): Float32Array {
  if (c === 1) {
    out.set(src);
    return out;
  }
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    const base = i * plane * c;
    for (let p = 0; p < plane; p++) {
      for (let k = 0; k < c; k++) out[base + k * plane + p] = src[base + p * c + k];
    }
  }
  return out;
}

/** An onnxruntime session over a model's exported weights, for logits of whole splits. */
export class OnnxSplitRunner {
  readonly #session: ort.InferenceSession;
  readonly #plan: NetworkPlan;
  readonly #batchSize: number;

  private constructor(session: ort.InferenceSession, plan: NetworkPlan, batchSize: number) {
    this.#session = session;
    this.#plan = plan;
    this.#batchSize = batchSize;
  }

  /** Exports `model` (built from `plan`) as it is now and opens a session on it. */
  static open(plan: NetworkPlan, model: LayersModel, options: OnnxEvaluateOptions = {}): Promise<OnnxSplitRunner> {
    return OnnxSplitRunner.fromBytes(plan, buildOnnxModel(plan, tfjsWeights(model)), options);
  }

  /** Opens a session on the ONNX model of `plan` already built (`bytes`, as buildOnnxModel writes it). */
  static async fromBytes(plan: NetworkPlan, bytes: Uint8Array, options: OnnxEvaluateOptions = {}): Promise<OnnxSplitRunner> {
    const session = await ort.InferenceSession.create(bytes, {
      intraOpNumThreads: options.threads ?? ONNX_EVAL_THREADS,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
    return new OnnxSplitRunner(session, plan, options.batchSize ?? ONNX_EVAL_BATCH_SIZE);
  }

  /** Logits [count × classes] of a split, resized to the model's resolution as training resizes. */
  async logits(split: TensorSplit): Promise<Float32Array> {
    const { resolution, inputChannels: c, numClasses: classes } = this.#plan;
    if (split.channels !== c) throw new Error(`split has ${split.channels} channel(s) but the model takes ${c}`);
    const out = new Float32Array(split.count * classes);
    const size = split.height * split.width * c;
    const resize = split.height !== resolution || split.width !== resolution;
    const input = new Float32Array(this.#batchSize * resolution * resolution * c);
    for (let start = 0; start < split.count; start += this.#batchSize) {
      const n = Math.min(this.#batchSize, split.count - start);
      let nhwc = split.images.subarray(start * size, (start + n) * size);
      if (resize) {
        nhwc = tf.tidy(() => toResolution(tf.tensor4d(nhwc, [n, split.height, split.width, c]), resolution).dataSync() as Float32Array);
      }
      const batch = nhwcToNchw(nhwc, n, resolution, resolution, c, input.subarray(0, nhwc.length));
      const result = await this.#session.run({ [this.#session.inputNames[0]]: new ort.Tensor('float32', batch, [n, c, resolution, resolution]) });
      out.set(result[this.#session.outputNames[0]].data as Float32Array, start * classes);
    }
    return out;
  }

  async release(): Promise<void> {
    await this.#session.release();
  }
}

/** Logits of each split through one onnxruntime session on `model`'s current weights. */
export async function onnxLogits(plan: NetworkPlan, model: LayersModel, splits: TensorSplit[], options: OnnxEvaluateOptions = {}): Promise<Float32Array[]> {
  const runner = await OnnxSplitRunner.open(plan, model, options);
  try {
    const out: Float32Array[] = [];
    for (const split of splits) out.push(await runner.logits(split));
    return out;
  } finally {
    await runner.release();
  }
}

/** A {@link SplitEvaluator} that runs the model of `plan` through onnxruntime. */
export function onnxEvaluator(plan: NetworkPlan, options: OnnxEvaluateOptions = {}): SplitEvaluator {
  return { name: 'onnxruntime', logits: (model, splits) => onnxLogits(plan, model, splits, options) };
}

/** Top-1 accuracy over one split of `model` (built from `plan`) through onnxruntime. */
export async function exportedAccuracy(plan: NetworkPlan, model: LayersModel, split: TensorSplit, options: OnnxEvaluateOptions = {}): Promise<number> {
  const [logits] = await onnxLogits(plan, model, [split], options);
  return accuracyFromLogits(logits, split.labels, plan.numClasses);
}
