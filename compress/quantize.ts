/**
 * Static INT8 quantization to ONNX QDQ form, as onnxruntime's CPU provider
 * wants it: per-channel symmetric int8 weights, asymmetric uint8
 * activations calibrated on sample images (min/max or percentile), int32
 * conv biases at scale x_scale·w_scale. ORT then fuses DequantizeLinear →
 * Conv → QuantizeLinear into QLinearConv (and Add, Mul, GlobalAveragePool
 * into their QLinear forms).
 *
 * A Clip or Relu whose input feeds nothing else is left between its producer
 * and the next QuantizeLinear, so ORT can drop it (its range is already
 * enforced by the quantization range) and fuse the producer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import {
  CompressError,
  decodeModel,
  dims,
  encodeModel,
  floatValues,
  initializerMap,
  intAttribute,
  newNode,
  tensorProto,
  withExtraOutputs,
  type ModelProto,
  type NodeProto,
} from './onnx-model.js';

/** How activation ranges are calibrated. */
export type CalibrationMethod = 'minmax' | 'percentile';

/** How {@link quantizeModel} quantizes; all optional. */
export interface QuantizeOptions {
  /** @default 'minmax' */
  method?: CalibrationMethod;
  /** Percentile of |range| kept, for `percentile`. @default 99.99 */
  percentile?: number;
  /**
   * Weights in 7 bits ([-63, 63]) instead of 8. With u8 activations, AVX2
   * without VNNI multiplies through VPMADDUBSW, whose pairwise int16 sums
   * saturate at 8-bit weights; at 7 bits they cannot. @default true
   */
  reduceRange?: boolean;
}

/** Input batches for calibration, in the model's layout. */
export interface CalibrationBatch {
  data: Float32Array;
  dims: number[];
}

/** What quantization did: tensors quantized and how. */
export interface QuantizationReport {
  activations: number;
  weights: number;
  method: CalibrationMethod;
  calibrationImages: number;
}

/** Ops whose outputs we leave float because a following Clip/Relu will carry the Q. */
const RANGE_OPS = new Set(['Clip', 'Relu']);

/** u8 asymmetric parameters covering [lo, hi] and 0. */
export function activationParams(lo: number, hi: number): { scale: number; zeroPoint: number } {
  const rmin = Math.min(0, lo);
  const rmax = Math.max(0, hi);
  const scale = rmax > rmin ? (rmax - rmin) / 255 : 1;
  return { scale, zeroPoint: Math.min(255, Math.max(0, Math.round(-rmin / scale))) };
}

/** Per-output-channel symmetric int8 of a weight tensor laid out with the channel on `axis`. */
export function quantizeWeights(values: Float32Array, shape: number[], axis: number, qmax = 127): { q: Int8Array; scales: Float32Array } {
  const channels = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = new Float32Array(channels);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % channels;
    scales[c] = Math.max(scales[c], Math.abs(values[i]));
  }
  for (let c = 0; c < channels; c++) scales[c] = scales[c] > 0 ? scales[c] / qmax : 1;
  const q = new Int8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % channels;
    q[i] = Math.max(-qmax, Math.min(qmax, Math.round(values[i] / scales[c])));
  }
  return { q, scales };
}

/** Activation tensors to quantize: the input and node outputs, except graph outputs and tensors only a Clip/Relu reads. */
function activationTensors(model: ModelProto): string[] {
  const graph = model.graph!;
  const inits = new Set((graph.initializer ?? []).map((t) => t.name));
  const outputs = new Set((graph.output ?? []).map((o) => o.name));
  const consumers = new Map<string, NodeProto[]>();
  for (const node of graph.node ?? []) for (const i of node.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), node]);
  const candidates = [...(graph.input ?? []).map((i) => i.name!).filter((n) => !inits.has(n)), ...(graph.node ?? []).flatMap((n) => n.output ?? [])];
  return candidates.filter((t) => {
    if (outputs.has(t)) return false;
    const users = consumers.get(t) ?? [];
    if (users.length === 0) return false;
    return !users.every((u) => RANGE_OPS.has(u.opType!));
  });
}

/** Runs the model over the calibration batches, returning each tensor's calibrated range. */
async function calibrate(model: ModelProto, tensors: string[], batches: CalibrationBatch[], o: Required<QuantizeOptions>): Promise<Map<string, [number, number]>> {
  const instrumented = withExtraOutputs(model, tensors.filter((t) => t !== model.graph!.input![0].name));
  const session = await ort.InferenceSession.create(encodeModel(instrumented), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  const inputName = session.inputNames[0];
  const lo = new Map<string, number>();
  const hi = new Map<string, number>();
  const samples = new Map<string, number[]>();
  const observe = (name: string, data: Float32Array) => {
    let mn = Infinity;
    let mx = -Infinity;
    for (const v of data) {
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    lo.set(name, Math.min(lo.get(name) ?? Infinity, mn));
    hi.set(name, Math.max(hi.get(name) ?? -Infinity, mx));
    if (o.method === 'percentile') {
      const keep = samples.get(name) ?? [];
      const stride = Math.max(1, Math.floor(data.length / 20_000));
      for (let i = 0; i < data.length; i += stride) keep.push(data[i]);
      samples.set(name, keep);
    }
  };
  for (const batch of batches) {
    observe(inputName, batch.data);
    const out = await session.run({ [inputName]: new ort.Tensor('float32', batch.data, batch.dims) });
    for (const t of tensors) if (out[t]) observe(t, out[t].data as Float32Array);
  }
  await session.release();
  const ranges = new Map<string, [number, number]>();
  for (const t of tensors) {
    if (!lo.has(t)) throw new CompressError(`calibration produced no values for tensor ${t}`);
    if (o.method === 'percentile') {
      const s = Float64Array.from(samples.get(t)!).sort();
      const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
      ranges.set(t, [q(1 - o.percentile / 100), q(o.percentile / 100)]);
    } else {
      ranges.set(t, [lo.get(t)!, hi.get(t)!]);
    }
  }
  return ranges;
}

/** Quantizes a float32 ONNX model; see the file comment. */
export async function quantizeModel(
  fp32: Uint8Array,
  name: string,
  batches: CalibrationBatch[],
  options: QuantizeOptions = {},
): Promise<{ bytes: Uint8Array; report: QuantizationReport }> {
  const o: Required<QuantizeOptions> = { method: options.method ?? 'minmax', percentile: options.percentile ?? 99.99, reduceRange: options.reduceRange ?? true };
  if (!batches.length) throw new CompressError(`${name}: calibration needs at least one batch of images`);
  const model = decodeModel(fp32, name);
  const graph = model.graph!;
  const tensors = activationTensors(model);
  const ranges = await calibrate(model, tensors, batches, o);
  const inits = initializerMap(model);
  const newInits = [...(graph.initializer ?? [])];
  const nodes: NodeProto[] = [];
  const rename = new Map<string, string>();
  const scaleOf = new Map<string, number>();

  const qdq = (t: string) => {
    const [lo, hi] = ranges.get(t)!;
    const { scale, zeroPoint } = activationParams(lo, hi);
    scaleOf.set(t, scale);
    newInits.push(tensorProto(`${t}_scale`, [], [scale], 'float'), tensorProto(`${t}_zero_point`, [], [zeroPoint], 'uint8'));
    nodes.push(newNode({ op: 'QuantizeLinear', inputs: [t, `${t}_scale`, `${t}_zero_point`], outputs: [`${t}_q`], name: `${t}_QuantizeLinear` }));
    nodes.push(newNode({ op: 'DequantizeLinear', inputs: [`${t}_q`, `${t}_scale`, `${t}_zero_point`], outputs: [`${t}_dq`], name: `${t}_DequantizeLinear` }));
    rename.set(t, `${t}_dq`);
  };

  const inputName = graph.input![0].name!;
  if (tensors.includes(inputName)) qdq(inputName);
  let weights = 0;
  const quantizedInit = new Set<string>();
  for (const node of graph.node ?? []) {
    const inputs = (node.input ?? []).map((i) => rename.get(i) ?? i);
    if ((node.opType === 'Conv' || node.opType === 'Gemm') && inits.has(node.input![1])) {
      const wName = node.input![1];
      const w = inits.get(wName)!;
      const shape = dims(w);
      const transB = node.attribute?.find((a) => a.name === 'transB')?.i;
      const axis = node.opType === 'Conv' ? 0 : Number(transB ?? 0) ? 0 : 1;
      const { q, scales } = quantizeWeights(floatValues(w), shape, axis, o.reduceRange ? 63 : 127);
      const qName = `${wName}_quantized`;
      if (!quantizedInit.has(wName)) {
        // Symmetric: zero points are 0, which is DequantizeLinear's default, so none are stored.
        newInits.push(tensorProto(qName, shape, q, 'int8'), tensorProto(`${qName}_scale`, [scales.length], scales, 'float'));
        nodes.push(newNode({ op: 'DequantizeLinear', inputs: [qName, `${qName}_scale`], outputs: [`${wName}_dq`], name: `${wName}_DequantizeLinear`, attributes: [intAttribute('axis', axis)] }));
        quantizedInit.add(wName);
        weights++;
      }
      inputs[1] = `${wName}_dq`;
      const xScale = scaleOf.get(node.input![0]);
      const bName = node.input![2];
      if (node.opType === 'Conv' && bName && inits.has(bName) && xScale !== undefined) {
        const bias = floatValues(inits.get(bName)!);
        const bScales = scales.map((s) => s * xScale);
        const bq = Int32Array.from(bias, (b, c) => Math.round(b / bScales[c]));
        newInits.push(tensorProto(`${bName}_quantized`, [bias.length], bq, 'int32'), tensorProto(`${bName}_quantized_scale`, [bias.length], bScales, 'float'));
        nodes.push(newNode({ op: 'DequantizeLinear', inputs: [`${bName}_quantized`, `${bName}_quantized_scale`], outputs: [`${bName}_dq`], name: `${bName}_DequantizeLinear`, attributes: [intAttribute('axis', 0)] }));
        inputs[2] = `${bName}_dq`;
      }
    }
    nodes.push({ ...node, input: inputs });
    for (const out of node.output ?? []) if (tensors.includes(out)) qdq(out);
  }
  // Float weights no longer read by any node are dropped.
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  graph.initializer = newInits.filter((t) => used.has(t.name!));
  graph.node = nodes;
  return {
    bytes: encodeModel(model),
    report: { activations: scaleOf.size, weights, method: o.method, calibrationImages: batches.reduce((n, b) => n + b.dims[0], 0) },
  };
}

/** Op types of the graph ORT actually runs after its optimisations (to confirm QLinear fusion). */
export async function optimisedOpTypes(model: Uint8Array): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'ort-optimised-'));
  const path = join(dir, 'optimised.onnx');
  try {
    const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', optimizedModelFilePath: path, logSeverityLevel: 3, intraOpNumThreads: 1 });
    await session.release();
    const counts: Record<string, number> = {};
    for (const node of decodeModel(readFileSync(path), path).graph!.node ?? []) counts[node.opType!] = (counts[node.opType!] ?? 0) + 1;
    return counts;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
