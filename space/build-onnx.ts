/**
 * genome plan + trained weights → ONNX (NCHW) for latency measurement and
 * deployment. Batch norm is folded into the preceding conv, ReLU6 is Clip,
 * hard-swish is HardSwish, squeeze-excite is GlobalAveragePool → Conv → Relu →
 * Conv → HardSigmoid → Mul. Input `input` [batch, C, H, W] float32 of
 * normalised pixels; output `logits` [batch, classes].
 */
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { OnnxGraphBuilder } from './onnx-graph.js';
import type { ConvSpec, NetworkPlan } from './plan.js';

/** Batch-norm epsilon of every BN layer the tfjs builder makes. */
export const BN_EPSILON = 1e-3;
export const ONNX_INPUT_NAME = 'input';
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

/** Encodes the network of `plan` with the weights `weights` gives. */
export function buildOnnxModel(plan: NetworkPlan, weights: WeightSource, metadata: Record<string, string> = {}): Uint8Array {
  const g = new OnnxGraphBuilder();
  g.fresh(ONNX_INPUT_NAME);
  g.fresh(ONNX_OUTPUT_NAME);
  const zero = g.float('clip_min', [], [0]);
  const six = g.float('clip_max', [], [6]);

  const activate = (x: string, activation: ConvSpec['activation'], name: string): string => {
    if (activation === 'relu6') return g.op('Clip', [x, zero, six], `${name}_relu6`);
    if (activation === 'hswish') return g.op('HardSwish', [x], `${name}_hswish`);
    return x;
  };

  const convBn = (x: string, c: ConvSpec): string => {
    const [kernel] = weights(c.name);
    const folded = foldConvBn(c, kernel, weights(`${c.name}_bn`));
    const w = g.float(`${c.name}_weight`, folded.dims, folded.weight);
    const b = g.float(`${c.name}_bias`, [c.outChannels], folded.bias);
    const y = g.op('Conv', [x, w, b], c.name, {
      kernel_shape: [c.kernel, c.kernel],
      strides: [c.stride, c.stride],
      pads: samePads(c.inSize, c.kernel, c.stride),
      group: c.depthwise ? c.outChannels : 1,
    });
    return activate(y, c.activation, c.name);
  };

  /** A 1×1 conv with bias from a tfjs conv2d layer (SE), no BN. */
  const pointwiseWithBias = (x: string, layer: string, inChannels: number, outChannels: number): string => {
    const [kernel, bias] = weights(layer);
    const w = new Float32Array(outChannels * inChannels);
    for (let o = 0; o < outChannels; o++) for (let i = 0; i < inChannels; i++) w[o * inChannels + i] = kernel.values[i * outChannels + o];
    return g.op('Conv', [x, g.float(`${layer}_weight`, [outChannels, inChannels, 1, 1], w), g.float(`${layer}_bias`, [outChannels], bias.values)], layer, {
      kernel_shape: [1, 1],
    });
  };

  let x = convBn(ONNX_INPUT_NAME, plan.stem);
  for (const block of plan.blocks) {
    const shortcut = x;
    if (block.expand) x = convBn(x, block.expand);
    x = convBn(x, block.depthwise);
    const se = block.squeezeExcite;
    if (se) {
      let s = g.op('GlobalAveragePool', [x], `${se.name}_pool`);
      s = g.op('Relu', [pointwiseWithBias(s, `${se.name}_reduce`, se.channels, se.squeezed)], `${se.name}_relu`);
      s = g.op('HardSigmoid', [pointwiseWithBias(s, `${se.name}_expand`, se.squeezed, se.channels)], `${se.name}_gate`, {
        alpha: { float: 0.2 },
        beta: { float: 0.5 },
      });
      x = g.op('Mul', [x, s], `${se.name}_scale`);
    }
    x = convBn(x, block.project);
    if (block.residual) x = g.op('Add', [shortcut, x], `${block.name}_add`);
  }
  x = convBn(x, plan.head);
  x = g.op('Flatten', [g.op('GlobalAveragePool', [x], 'pool')], 'flatten');
  const [fcKernel, fcBias] = weights(plan.classifier.name);
  const { inFeatures, outFeatures } = plan.classifier;
  g.node({
    op: 'Gemm',
    inputs: [x, g.float('classifier_weight', [inFeatures, outFeatures], fcKernel.values), g.float('classifier_bias', [outFeatures], fcBias.values)],
    outputs: [ONNX_OUTPUT_NAME],
    name: 'classifier',
  });
  return g.toBytes({
    graphName: 'candidate',
    input: { name: ONNX_INPUT_NAME, shape: ['batch', plan.inputChannels, plan.resolution, plan.resolution] },
    output: { name: ONNX_OUTPUT_NAME, shape: ['batch', plan.numClasses] },
    docString: 'MobileNet-style candidate from nas-edge. Input: NCHW float32, pixels scaled to [0, 1] then standardised per channel (see metadata).',
    metadata,
  });
}
