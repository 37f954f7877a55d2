/**
 * genome plan + trained weights → ONNX (NCHW) for latency measurement and
 * deployment. Batch norm is folded into the preceding conv, ReLU6 is Clip,
 * hard-swish is HardSwish, squeeze-excite is GlobalAveragePool → Conv → Relu →
 * Conv → HardSigmoid → Mul. Input `input` [batch, C, H, W] float32 of
 * normalised pixels; output `logits` [batch, classes].
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { OnnxGraphBuilder } from '../onnx/graph-builder.js';
import type { BlockPlan, ConvSpec, NetworkPlan } from './plan.js';

/** Batch-norm epsilon of every BN layer the tfjs builder makes. */
export const BN_EPSILON = 1e-3;
/** Name of the ONNX model's input (NCHW float32). */
export const ONNX_INPUT_NAME = 'input';
/** Name of the ONNX model's output (class logits). */
export const ONNX_OUTPUT_NAME = 'logits';

/** One weight tensor of a layer, as tfjs-layers orders them. */
export interface WeightTensor {
  shape: number[];
  values: Float32Array;
}
/** Looks up a layer's weights by name (tfjs order: kernel then bias; gamma, beta, mean, variance). */
export type WeightSource = (layerName: string) => WeightTensor[];

/** A {@link WeightSource} over a tfjs model's current weights. */
export function tfjsWeights(model: LayersModel): WeightSource {
  return (name) =>
    model.getLayer(name).getWeights().map((t) => ({ shape: t.shape, values: t.dataSync() as Float32Array }));
}

/** TF 'same' padding as ONNX pads [top, left, bottom, right]: the extra pixel goes after. */
export function samePads(size: number, kernel: number, stride: number): [number, number, number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kernel - size, 0);
  const begin = Math.floor(total / 2);
  return [begin, begin, total - begin, total - begin];
}

/**
 * Folds BN into conv weights: tfjs kernel [kh, kw, in, out] (depthwise
 * [kh, kw, C, 1]) becomes ONNX [out, in/groups, kh, kw] scaled per output
 * channel, with bias β − μ·γ/√(σ² + ε).
 */
export function foldConvBn(c: ConvSpec, kernel: WeightTensor, bn: WeightTensor[]): { weight: Float32Array; bias: Float32Array; dims: number[] } {
  const [gamma, beta, mean, variance] = bn.map((w) => w.values);
  const scale = Float32Array.from(gamma, (g, o) => g / Math.sqrt(variance[o] + BN_EPSILON));
  const bias = Float32Array.from(beta, (b, o) => b - mean[o] * scale[o]);
  return { ...onnxConvKernel(c, kernel, scale), bias };
}

/** A tfjs conv kernel in ONNX's layout [out, in/groups, kh, kw], each output channel times `scale` (none: unscaled). */
function onnxConvKernel(c: ConvSpec, kernel: WeightTensor, scale?: Float32Array): { weight: Float32Array; dims: number[] } {
  const out = c.outChannels;
  const inPerGroup = c.depthwise ? 1 : c.inChannels;
  const k = c.kernel;
  const weight = new Float32Array(out * inPerGroup * k * k);
  const src = kernel.values;
  for (let o = 0; o < out; o++) {
    const s = scale ? scale[o] : 1;
    for (let i = 0; i < inPerGroup; i++) {
      for (let y = 0; y < k; y++) {
        for (let x = 0; x < k; x++) {
          // tfjs: ((y·k + x)·in + i)·out + o ; depthwise: (y·k + x)·C + o
          const from = c.depthwise ? (y * k + x) * out + o : ((y * k + x) * inPerGroup + i) * out + o;
          weight[((o * inPerGroup + i) * k + y) * k + x] = scale ? src[from] * s : src[from];
        }
      }
    }
  }
  return { weight, dims: [out, inPerGroup, k, k] };
}

/** The graph outputs of one BN layer in a statistics model (see {@link buildOnnxStatisticsModel}). */
export interface BatchStatisticsOutputs {
  /** The BN layer's name (`<conv>_bn`), as a WeightSource names it. */
  layer: string;
  channels: number;
  /** Output names of the batch mean and the biased batch variance, each [C]. */
  mean: string;
  variance: string;
}

/**
 * Emits the parts of a network into one graph. The whole model is stem,
 * blocks, head in sequence; the latency predictor emits single parts.
 */
class NetworkWriter {
  readonly g = new OnnxGraphBuilder();
  readonly #weights: WeightSource;
  #clipBounds: [string, string] | null = null;
  /** With batch statistics: every BN layer's mean and variance outputs, in graph order. */
  readonly statistics: BatchStatisticsOutputs[] | null;

  /** `statisticsBatch`: write BN on batch statistics, for batches of this many images. */
  constructor(
    weights: WeightSource,
    readonly statisticsBatch: number | null = null,
  ) {
    this.#weights = weights;
    this.statistics = statisticsBatch !== null ? [] : null;
    this.g.fresh(ONNX_INPUT_NAME);
    this.g.fresh(ONNX_OUTPUT_NAME);
  }

  #activate(x: string, activation: ConvSpec['activation'], name: string): string {
    if (activation === 'relu6') {
      // Created on first use: an unused initializer makes ORT warn.
      this.#clipBounds ??= [this.g.float('clip_min', [], [0]), this.g.float('clip_max', [], [6])];
      return this.g.op('Clip', [x, ...this.#clipBounds], `${name}_relu6`);
    }
    if (activation === 'hswish') return this.g.op('HardSwish', [x], `${name}_hswish`);
    return x;
  }

  convBn(x: string, c: ConvSpec): string {
    if (this.statistics) return this.#activate(this.#convBatchNorm(x, c), c.activation, c.name);
    const [kernel] = this.#weights(c.name);
    const folded = foldConvBn(c, kernel, this.#weights(`${c.name}_bn`));
    const w = this.g.float(`${c.name}_weight`, folded.dims, folded.weight);
    const b = this.g.float(`${c.name}_bias`, [c.outChannels], folded.bias);
    const y = this.g.op('Conv', [x, w, b], c.name, {
      kernel_shape: [c.kernel, c.kernel],
      strides: [c.stride, c.stride],
      pads: samePads(c.inSize, c.kernel, c.stride),
      group: c.depthwise ? c.outChannels : 1,
    });
    return this.#activate(y, c.activation, c.name);
  }

  /**
   * The conv unfolded, then BN on the batch's own statistics, as a BN layer
   * computes in training mode: mean and biased variance over batch and
   * space, x̂ = (x − μ)/√(σ² + ε)·γ + β. The mean and variance are graph
   * outputs; later layers see the batch-normalised values, so their
   * statistics are those of this subnet, as Once-for-All recomputes them.
   * Four passes over the conv's output (mean, centre, sum of squares, and
   * BatchNormalization fed the batch's statistics). These passes, not the
   * convs, are most of its time: onnxruntime fuses an activation into the
   * conv before it only when no BN sits between, and each pass reads a
   * tensor of up to 64·96·32·32 floats.
   */
  #convBatchNorm(x: string, c: ConvSpec): string {
    const [kernel] = this.#weights(c.name);
    const [gamma, beta] = this.#weights(`${c.name}_bn`);
    const { weight, dims } = onnxConvKernel(c, kernel);
    const y = this.g.op('Conv', [x, this.g.float(`${c.name}_weight`, dims, weight)], c.name, {
      kernel_shape: [c.kernel, c.kernel],
      strides: [c.stride, c.stride],
      pads: samePads(c.inSize, c.kernel, c.stride),
      group: c.depthwise ? c.outChannels : 1,
    });
    const layer = `${c.name}_bn`;
    const axes = { axes: [0, 2, 3], keepdims: 0 };
    const mean = this.g.node({ op: 'ReduceMean', inputs: [y], outputs: [this.g.fresh(`${layer}_mean`)], attributes: axes });
    const channelShape = this.g.integer(`${layer}_channel_shape`, [3], [c.outChannels, 1, 1], 'int64');
    const centred = this.g.op('Sub', [y, this.g.op('Reshape', [mean, channelShape], `${layer}_mean_chw`)], `${layer}_centred`);
    const squares = this.g.op('ReduceSumSquare', [centred], `${layer}_squares`, axes);
    const values = this.statisticsBatch! * c.outSize * c.outSize;
    const variance = this.g.node({ op: 'Mul', inputs: [squares, this.g.float(`${layer}_inverse_count`, [], [1 / values])], outputs: [this.g.fresh(`${layer}_variance`)] });
    this.statistics!.push({ layer, channels: c.outChannels, mean, variance });
    return this.g.op('BatchNormalization', [y, this.g.float(`${layer}_gamma`, [c.outChannels], gamma.values), this.g.float(`${layer}_beta`, [c.outChannels], beta.values), mean, variance], layer, {
      epsilon: { float: BN_EPSILON },
    });
  }

  /** A 1×1 conv with bias from a tfjs conv2d layer (SE), no BN. */
  #pointwiseWithBias(x: string, layer: string, inChannels: number, outChannels: number): string {
    const [kernel, bias] = this.#weights(layer);
    const w = new Float32Array(outChannels * inChannels);
    for (let o = 0; o < outChannels; o++) for (let i = 0; i < inChannels; i++) w[o * inChannels + i] = kernel.values[i * outChannels + o];
    const weight = this.g.float(`${layer}_weight`, [outChannels, inChannels, 1, 1], w);
    return this.g.op('Conv', [x, weight, this.g.float(`${layer}_bias`, [outChannels], bias.values)], layer, { kernel_shape: [1, 1] });
  }

  block(x: string, block: BlockPlan): string {
    const shortcut = x;
    if (block.expand) x = this.convBn(x, block.expand);
    x = this.convBn(x, block.depthwise);
    const se = block.squeezeExcite;
    if (se) {
      let s = this.g.op('GlobalAveragePool', [x], `${se.name}_pool`);
      s = this.g.op('Relu', [this.#pointwiseWithBias(s, `${se.name}_reduce`, se.channels, se.squeezed)], `${se.name}_relu`);
      s = this.g.op('HardSigmoid', [this.#pointwiseWithBias(s, `${se.name}_expand`, se.squeezed, se.channels)], `${se.name}_gate`, {
        alpha: { float: 0.2 },
        beta: { float: 0.5 },
      });
      x = this.g.op('Mul', [x, s], `${se.name}_scale`);
    }
    x = this.convBn(x, block.project);
    return block.residual ? this.g.op('Add', [shortcut, x], `${block.name}_add`) : x;
  }

  /** Head conv, global pool and classifier; writes the graph output. */
  head(x: string, plan: NetworkPlan): string {
    x = this.convBn(x, plan.head);
    x = this.g.op('Flatten', [this.g.op('GlobalAveragePool', [x], 'pool')], 'flatten');
    const [fcKernel, fcBias] = this.#weights(plan.classifier.name);
    const { inFeatures, outFeatures } = plan.classifier;
    const w = this.g.float('classifier_weight', [inFeatures, outFeatures], fcKernel.values);
    return this.g.node({ op: 'Gemm', inputs: [x, w, this.g.float('classifier_bias', [outFeatures], fcBias.values)], outputs: [ONNX_OUTPUT_NAME], name: 'classifier' });
  }
}

/** Encodes the network of `plan` with the weights `weights` gives. */
export function buildOnnxModel(plan: NetworkPlan, weights: WeightSource, metadata: Record<string, string> = {}): Uint8Array {
  const w = new NetworkWriter(weights);
  let x = w.convBn(ONNX_INPUT_NAME, plan.stem);
  for (const block of plan.blocks) x = w.block(x, block);
  w.head(x, plan);
  return w.g.toBytes({
    graphName: 'candidate',
    input: { name: ONNX_INPUT_NAME, shape: ['batch', plan.inputChannels, plan.resolution, plan.resolution] },
    output: { name: ONNX_OUTPUT_NAME, shape: ['batch', plan.numClasses] },
    docString: 'MobileNet-style candidate from nas-edge. Input: NCHW float32, pixels scaled to [0, 1] then standardised per channel (see metadata).',
    metadata,
  });
}

/**
 * The network of `plan` with every BN on its batch's statistics (training
 * mode) and each BN layer's batch mean and variance as extra outputs: one
 * onnxruntime pass per batch recomputes a subnet's BN statistics, where a
 * tfjs forward in training mode took three times the validation's time
 * (train/onnx-batch-norm.ts). The moving statistics `weights` gives are not
 * read. The batch size is fixed (`batch`), as the variance divides by it.
 */
export function buildOnnxStatisticsModel(plan: NetworkPlan, weights: WeightSource, batch: number): { bytes: Uint8Array; statistics: BatchStatisticsOutputs[] } {
  const w = new NetworkWriter(weights, batch);
  let x = w.convBn(ONNX_INPUT_NAME, plan.stem);
  for (const block of plan.blocks) x = w.block(x, block);
  w.head(x, plan);
  const statistics = w.statistics!;
  const bytes = w.g.toBytes({
    graphName: 'candidate-batch-statistics',
    input: { name: ONNX_INPUT_NAME, shape: [batch, plan.inputChannels, plan.resolution, plan.resolution] },
    output: { name: ONNX_OUTPUT_NAME, shape: [batch, plan.numClasses] },
    extraOutputs: statistics.flatMap((s) => [s.mean, s.variance].map((name) => ({ name, shape: [s.channels] }))),
  });
  return { bytes, statistics };
}

/** One part of a network: the stem conv, one block, or head + classifier. */
export type NetworkPart = { kind: 'stem' } | { kind: 'block'; block: BlockPlan } | { kind: 'head' };

/**
 * An ONNX model of one part alone, input [batch, C, H, W] as that part sees
 * it: what the latency lookup table measures.
 */
export function buildOnnxPart(plan: NetworkPlan, part: NetworkPart, weights: WeightSource): Uint8Array {
  const w = new NetworkWriter(weights);
  const first = part.kind === 'stem' ? plan.stem : part.kind === 'head' ? plan.head : (part.block.expand ?? part.block.depthwise);
  const input = { name: ONNX_INPUT_NAME, shape: ['batch', first.inChannels, first.inSize, first.inSize] };
  if (part.kind === 'head') {
    w.head(ONNX_INPUT_NAME, plan);
    return w.g.toBytes({ graphName: 'head', input, output: { name: ONNX_OUTPUT_NAME, shape: ['batch', plan.numClasses] } });
  }
  const last = part.kind === 'stem' ? plan.stem : part.block.project;
  const y = part.kind === 'stem' ? w.convBn(ONNX_INPUT_NAME, plan.stem) : w.block(ONNX_INPUT_NAME, part.block);
  w.g.node({ op: 'Identity', inputs: [y], outputs: [ONNX_OUTPUT_NAME] });
  return w.g.toBytes({ graphName: part.kind, input, output: { name: ONNX_OUTPUT_NAME, shape: ['batch', last.outChannels, last.outSize, last.outSize] } });
}
