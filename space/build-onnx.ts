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
  const out = c.outChannels;
  const inPerGroup = c.depthwise ? 1 : c.inChannels;
  const k = c.kernel;
  const scale = Float32Array.from(gamma, (g, o) => g / Math.sqrt(variance[o] + BN_EPSILON));
  const bias = Float32Array.from(beta, (b, o) => b - mean[o] * scale[o]);
  const weight = new Float32Array(out * inPerGroup * k * k);
  const src = kernel.values;
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inPerGroup; i++) {
      for (let y = 0; y < k; y++) {
        for (let x = 0; x < k; x++) {
          // tfjs: ((y·k + x)·in + i)·out + o ; depthwise: (y·k + x)·C + o
          const from = c.depthwise ? (y * k + x) * out + o : ((y * k + x) * inPerGroup + i) * out + o;
          weight[((o * inPerGroup + i) * k + y) * k + x] = src[from] * scale[o];
        }
      }
    }
  }
  return { weight, bias, dims: [out, inPerGroup, k, k] };
}

/**
 * Emits the parts of a network into one graph. The whole model is stem,
 * blocks, head in sequence; the latency predictor emits single parts.
 */
class NetworkWriter {
  readonly g = new OnnxGraphBuilder();
  readonly #weights: WeightSource;
  #clipBounds: [string, string] | null = null;

  constructor(weights: WeightSource) {
    this.#weights = weights;
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
