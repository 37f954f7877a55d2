/**
 * Static INT8 quantization to ONNX QDQ form, as onnxruntime's CPU provider
 * wants it: int8 weights (per output channel, or per tensor), uint8 (U8S8)
 * or int8 (S8S8) activations calibrated on sample images (min/max or
 * percentile), int32 biases at scale x_scale·w_scale. Which tensors get a
 * QDQ pair is decided per op type by the registry in qdq-operators.ts, on
 * the exporter's graph as normalised by qdq-graph.ts (Constant nodes folded,
 * Identity nodes bypassed). onnxruntime then fuses each DequantizeLinear →
 * op → QuantizeLinear group into its integer kernel.
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
  type TensorProto,
} from './model.js';
import { consumerMap, defaultOpset, nodeKind, normaliseGraph, type NodeKind, type NormaliseSummary } from './qdq-graph.js';
import { nodeName, QDQ_REGISTRY, REMOVABLE_ACTIVATIONS, unregisteredReason, type FloatNode, type QdqPlan } from './qdq-operators.js';

/** How activation ranges are calibrated. */
export type CalibrationMethod = 'minmax' | 'percentile';
/** Activation type: uint8 (U8S8, onnxruntime's x86 default) or int8 (S8S8). */
export type ActivationType = 'uint8' | 'int8';

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
  /** One weight scale per output channel (false: one per tensor). Forced off below opset 13. @default true */
  perChannel?: boolean;
  /** @default 'uint8' */
  activations?: ActivationType;
  /** Node kinds left in float (e.g. depthwise convolutions, slower in INT8 on some CPUs). @default [] */
  keepFloat?: NodeKind[];
  /**
   * Calibrated ranges by tensor, shared by the variants of one model and one
   * set of batches: tensors found here are not run again, new ones are added.
   */
  rangeCache?: Map<string, [number, number]>;
}

type ResolvedQuantizeOptions = Required<Omit<QuantizeOptions, 'rangeCache'>>;

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
  perChannel: boolean;
  /** Nodes the quantizer left in float, and why. */
  float: FloatNode[];
  normalised: NormaliseSummary;
}

const DEFAULT_QUANTIZE: Required<Omit<QuantizeOptions, 'rangeCache'>> = { method: 'minmax', percentile: 99.99, reduceRange: true, perChannel: true, activations: 'uint8', keepFloat: [] };

/** Asymmetric u8 (or s8) parameters covering [lo, hi] and 0. */
export function activationParams(lo: number, hi: number, type: ActivationType = 'uint8'): { scale: number; zeroPoint: number } {
  const [qmin, qmax] = type === 'uint8' ? [0, 255] : [-128, 127];
  const rmin = Math.min(0, lo);
  const rmax = Math.max(0, hi);
  const scale = rmax > rmin ? (rmax - rmin) / 255 : 1;
  return { scale, zeroPoint: Math.min(qmax, Math.max(qmin, Math.round(qmin - rmin / scale))) };
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

/** Runs the model over the calibration batches, returning each tensor's calibrated range. */
async function calibrate(name: string, model: ModelProto, tensors: string[], batches: CalibrationBatch[], o: ResolvedQuantizeOptions): Promise<Map<string, [number, number]>> {
  const instrumented = withExtraOutputs(model, tensors.filter((t) => t !== model.graph!.input![0].name));
  const firstLine = (error: unknown) => (error as Error).message.split('\n')[0];
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(encodeModel(instrumented), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  } catch (error) {
    throw new CompressError(`${name}: not a model onnxruntime can load (${firstLine(error)})`);
  }
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
    let out: ort.InferenceSession.OnnxValueMapType;
    try {
      out = await session.run({ [inputName]: new ort.Tensor('float32', batch.data, batch.dims) });
    } catch (error) {
      await session.release();
      throw new CompressError(`${name}: onnxruntime cannot run calibration inputs of shape [${batch.dims.join(', ')}] (${firstLine(error)})`);
    }
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

/** Fills the quantization plan: the registry, node by node, then the activations onnxruntime folds. */
function planQuantization(model: ModelProto, o: ResolvedQuantizeOptions): QdqPlan {
  const graph = model.graph!;
  const inits = initializerMap(model);
  const plan: QdqPlan = { calibrated: new Set(), shared: new Map(), weights: [], biases: [], float: [] };
  const ctx = { inits, isQuantized: (t: string) => plan.calibrated.has(t) || plan.shared.has(t) };
  const keep = new Set(o.keepFloat);
  for (const node of graph.node ?? []) {
    const operator = QDQ_REGISTRY.get(node.opType!);
    const kind = nodeKind(node, inits);
    if (!operator) {
      plan.float.push({ node: nodeName(node), opType: node.opType!, reason: unregisteredReason(node.opType!) });
    } else if (kind && keep.has(kind)) {
      plan.float.push({ node: nodeName(node), opType: node.opType!, reason: `${kind} kept in float by this variant` });
    } else {
      operator.plan(node, ctx, plan);
    }
  }
  const outputs = new Set((graph.output ?? []).map((t) => t.name!));
  const consumers = consumerMap(graph.node ?? []);
  for (const t of [...plan.calibrated]) {
    // A tensor read only by Relu/Clip whose outputs are quantized carries no pair: onnxruntime drops the activation.
    const users = consumers.get(t) ?? [];
    if (users.length && users.every((u) => REMOVABLE_ACTIVATIONS.has(u.opType!) && plan.calibrated.has(u.output![0]))) plan.calibrated.delete(t);
  }
  // Map order is graph order, so a chain of shares is settled front to back.
  for (const [t, source] of plan.shared) {
    if (outputs.has(t) || !(plan.calibrated.has(source) || plan.shared.has(source))) plan.shared.delete(t);
  }
  return plan;
}

/** Quantizes a float32 ONNX model; see the file comment. */
export async function quantizeModel(
  fp32: Uint8Array,
  name: string,
  batches: CalibrationBatch[],
  options: QuantizeOptions = {},
): Promise<{ bytes: Uint8Array; report: QuantizationReport }> {
  const o: ResolvedQuantizeOptions = { ...DEFAULT_QUANTIZE, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
  if (!batches.length) throw new CompressError(`${name}: calibration needs at least one batch of images`);
  const { model, summary } = normaliseGraph(decodeModel(fp32, name));
  const opset = defaultOpset(model);
  if (opset < 10) throw new CompressError(`${name}: opset ${opset}; QuantizeLinear needs opset 10 or later`);
  // Per-axis DequantizeLinear arrived in opset 13.
  const perChannel = o.perChannel && opset >= 13;
  const graph = model.graph!;
  const plan = planQuantization(model, o);
  const ranges = options.rangeCache ?? new Map<string, [number, number]>();
  const missing = [...plan.calibrated].filter((t) => !ranges.has(t));
  if (missing.length) for (const [t, range] of await calibrate(name, model, missing, batches, o)) ranges.set(t, range);
  const inits = initializerMap(model);
  const newInits: TensorProto[] = [...(graph.initializer ?? [])];
  const nodes: NodeProto[] = [];
  const rename = new Map<string, string>();
  const scaleOf = new Map<string, number>();
  const zeroType = o.activations;
  const root = (t: string): string => (plan.shared.has(t) ? root(plan.shared.get(t)!) : t);

  const outputs = new Set((graph.output ?? []).map((t) => t.name!));
  // Short ids for the tensors this pass adds: exporters' names run to 60 characters, and each
  // quantized tensor adds four of them, a few percent of a small model's file.
  const ids = new Map<string, string>();
  const id = (t: string) => ids.get(t) ?? (ids.set(t, `qdq${ids.size}`), ids.get(t)!);
  /** Q/DQ after tensor `t`; a graph output keeps its name on the DequantizeLinear (the producer writes `t_float`). */
  const qdq = (t: string) => {
    const source = root(t);
    const input = outputs.has(t) ? `${t}_float` : t;
    const output = outputs.has(t) ? t : `${id(t)}_dq`;
    const params = [`${id(source)}_scale`, `${id(source)}_zero_point`];
    if (!scaleOf.has(source)) {
      const [lo, hi] = ranges.get(source)!;
      const { scale, zeroPoint } = activationParams(lo, hi, o.activations);
      scaleOf.set(source, scale);
      newInits.push(tensorProto(params[0], [], [scale], 'float'), tensorProto(params[1], [], [zeroPoint], zeroType));
    }
    scaleOf.set(t, scaleOf.get(source)!);
    nodes.push(newNode({ op: 'QuantizeLinear', inputs: [input, ...params], outputs: [`${id(t)}_q`], name: '' }));
    nodes.push(newNode({ op: 'DequantizeLinear', inputs: [`${id(t)}_q`, ...params], outputs: [output], name: '' }));
    rename.set(t, output);
  };
  const quantized = (t: string) => plan.calibrated.has(t) || plan.shared.has(t);

  for (const input of graph.input ?? []) if (quantized(input.name!) && !outputs.has(input.name!)) qdq(input.name!);
  const weightOf = new Map(plan.weights.map((w) => [w.node, w]));
  const biasOf = new Map(plan.biases.map((b) => [b.node, b]));
  const weightScales = new Map<string, Float32Array>();
  const qmax = o.reduceRange ? 63 : 127;
  for (const node of graph.node ?? []) {
    const inputs = (node.input ?? []).map((i) => rename.get(i) ?? i);
    const w = weightOf.get(node);
    if (w) {
      const wName = node.input![w.input];
      const key = `${wName}_quantized${perChannel ? `_axis${w.axis}` : ''}`;
      if (!weightScales.has(key)) {
        const t = inits.get(wName)!;
        const shape = dims(t);
        // Per tensor: the whole weight as one channel.
        const { q, scales } = perChannel ? quantizeWeights(floatValues(t), shape, w.axis, qmax) : quantizeWeights(floatValues(t), [1, floatValues(t).length], 0, qmax);
        const scaleShape = perChannel ? [scales.length] : [];
        newInits.push(tensorProto(key, shape, q, 'int8'), tensorProto(`${key}_scale`, scaleShape, scales, 'float'));
        // Symmetric: zero points are 0, DequantizeLinear's default, so they are stored only where a fusion needs them.
        if (w.zeroPoint) newInits.push(tensorProto(`${key}_zero_point`, scaleShape, new Int8Array(scales.length), 'int8'));
        const dqInputs = [key, `${key}_scale`, ...(w.zeroPoint ? [`${key}_zero_point`] : [])];
        nodes.push(newNode({ op: 'DequantizeLinear', inputs: dqInputs, outputs: [`${key}_dq`], name: '', attributes: perChannel ? [intAttribute('axis', w.axis)] : [] }));
        weightScales.set(key, scales);
      }
      inputs[w.input] = `${key}_dq`;
      const b = biasOf.get(node);
      const xScale = scaleOf.get(node.input![0]);
      const bName = b ? node.input![b.input] : undefined;
      const bias = bName ? floatValues(inits.get(bName)!) : undefined;
      const scales = weightScales.get(key)!;
      if (b && bName && bias && xScale !== undefined && (scales.length === 1 || scales.length === bias.length)) {
        const bScales = Float32Array.from(perChannel ? scales : [scales[0]], (s) => s * xScale);
        const bq = Int32Array.from(bias, (v, c) => Math.round(v / bScales[perChannel ? c : 0]));
        // A bias shared by nodes with different input scales needs one copy each.
        let bKey = `${bName}_quantized`;
        for (let k = 2; newInits.some((t) => t.name === bKey); k++) bKey = `${bName}_${k}_quantized`;
        newInits.push(tensorProto(bKey, [bias.length], bq, 'int32'), tensorProto(`${bKey}_scale`, perChannel ? [bias.length] : [], bScales, 'float'));
        nodes.push(newNode({ op: 'DequantizeLinear', inputs: [bKey, `${bKey}_scale`], outputs: [`${bKey}_dq`], name: '', attributes: perChannel ? [intAttribute('axis', 0)] : [] }));
        inputs[b.input] = `${bKey}_dq`;
      }
    }
    nodes.push({ ...node, input: inputs, output: (node.output ?? []).map((t) => (outputs.has(t) && quantized(t) ? `${t}_float` : t)) });
    for (const out of node.output ?? []) if (quantized(out)) qdq(out);
  }
  // Float weights no longer read by any node are dropped.
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  graph.initializer = newInits.filter((t) => used.has(t.name!));
  graph.node = nodes;
  return {
    bytes: encodeModel(model),
    report: {
      activations: new Set([...plan.calibrated].map(root)).size,
      weights: weightScales.size,
      method: o.method,
      calibrationImages: batches.reduce((n, b) => n + b.dims[0], 0),
      perChannel,
      float: plan.float,
      normalised: summary,
    },
  };
}

/** The graph onnxruntime actually runs after its optimisations (where QDQ groups became integer kernels). */
export async function optimisedGraph(model: Uint8Array): Promise<NodeProto[]> {
  const dir = mkdtempSync(join(tmpdir(), 'ort-optimised-'));
  const path = join(dir, 'optimised.onnx');
  try {
    const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', optimizedModelFilePath: path, logSeverityLevel: 3, intraOpNumThreads: 1 });
    await session.release();
    return decodeModel(readFileSync(path), path).graph!.node ?? [];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Op types of the optimised graph, counted (to confirm QLinear fusion). */
export async function optimisedOpTypes(model: Uint8Array): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const node of await optimisedGraph(model)) counts[node.opType!] = (counts[node.opType!] ?? 0) + 1;
  return counts;
}

/** Ops with integer kernels that still run in float after onnxruntime's optimisations. */
const WEIGHTED_OPS = new Set(['Conv', 'Gemm', 'MatMul']);
const FUSABLE_OPS = new Set(['Conv', 'Gemm', 'MatMul', 'Add', 'Mul', 'GlobalAveragePool', 'AveragePool', 'Concat', 'Sigmoid']);

/** Fusable nodes of a QDQ model that onnxruntime left in float, read from its optimised graph. */
export async function floatNodesAfterOptimisation(model: Uint8Array): Promise<FloatNode[]> {
  const graph = await optimisedGraph(model);
  const dequantized = new Set(graph.filter((n) => n.opType === 'DequantizeLinear').flatMap((n) => n.output ?? []));
  return graph
    .filter((n) => {
      if (!FUSABLE_OPS.has(n.opType!)) return false;
      // A weighted op counts when both its data and weight are dequantized (a kept-float node's weight is float).
      const operands = WEIGHTED_OPS.has(n.opType!) ? (n.input ?? []).slice(0, 2) : (n.input ?? []).filter(Boolean);
      return operands.every((i) => dequantized.has(i));
    })
    .map((n) => ({ node: n.name || n.opType!, opType: n.opType!, reason: 'quantized, but onnxruntime did not fuse it into an integer kernel' }));
}
