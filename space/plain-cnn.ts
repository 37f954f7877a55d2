/**
 * The plain two-convolution CNN behind Fashion-MNIST's published baseline:
 * conv 5×5 → BN → ReLU → max-pool 2 → conv 5×5 → BN → ReLU → max-pool 2 →
 * flatten → dense. It is not a genome of the MobileNet space (no depthwise
 * convs, max pooling, a flattening classifier), so it has its own tfjs and
 * ONNX builders; the ONNX graph folds BN into the convs like the genome's.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import { FusedBatchNormalization } from './fused-batch-norm.js';
import { foldConvBn, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME, samePads, type WeightSource } from './build-onnx.js';
import { OnnxGraphBuilder } from '../onnx/graph-builder.js';
import type { ConvSpec } from './plan.js';
import { RandomWeightTable } from './random-weights.js';
import type { DataShape, GenomeCost } from './types.js';

/** The network's few choices. */
export interface PlainCnnSpec {
  resolution: number;
  /** Filters of the two convolutions. */
  filters: [number, number];
  kernel: number;
}

/** conv(32) – pool – conv(64) – pool – dense: about 84k parameters at 28 px. */
export function plainCnnSpec(resolution: number): PlainCnnSpec {
  return { resolution, filters: [32, 64], kernel: 5 };
}

/** The two convolutions as specs (for BN folding and cost), and the flattened size. */
function layers(spec: PlainCnnSpec, data: DataShape): { convs: [ConvSpec, ConvSpec]; pooled: number; flat: number } {
  const r1 = spec.resolution;
  const r2 = Math.floor(r1 / 2);
  const pooled = Math.floor(r2 / 2);
  const conv = (name: string, inChannels: number, outChannels: number, size: number): ConvSpec => ({
    name, kernel: spec.kernel, stride: 1, inChannels, outChannels, depthwise: false, activation: null, inSize: size, outSize: size,
  });
  return {
    convs: [conv('conv1', data.inputChannels, spec.filters[0], r1), conv('conv2', spec.filters[0], spec.filters[1], r2)],
    pooled,
    flat: pooled * pooled * spec.filters[1],
  };
}

/** Parameters (BN statistics included, as tfjs counts) and MACs per image. */
export function plainCnnCost(spec: PlainCnnSpec, data: DataShape): GenomeCost {
  const { convs, flat } = layers(spec, data);
  let params = 0;
  let macs = 0;
  for (const c of convs) {
    const w = c.kernel * c.kernel * c.inChannels * c.outChannels;
    params += w + 4 * c.outChannels;
    macs += w * c.outSize * c.outSize;
  }
  params += flat * data.numClasses + data.numClasses;
  macs += flat * data.numClasses;
  return { params, macs };
}

/** Seeded random weights for the ONNX builder: an untrained plain CNN that costs what the trained one costs to run. */
export function plainCnnRandomWeights(spec: PlainCnnSpec, data: DataShape, seed = 0): WeightSource {
  const { convs, flat } = layers(spec, data);
  const table = new RandomWeightTable(seed);
  for (const c of convs) table.conv(c);
  return table.dense('classifier', flat, data.numClasses).source();
}

/** The tfjs model (NHWC); the same spec and seed give the same weights. */
export function buildPlainCnnTfjs(spec: PlainCnnSpec, data: DataShape, seed = 0): tfl.LayersModel {
  const { convs } = layers(spec, data);
  let layerIndex = 0;
  const input = tfl.input({ shape: [spec.resolution, spec.resolution, data.inputChannels], name: 'input' });
  let x: tfl.SymbolicTensor = input;
  convs.forEach((c, i) => {
    x = tfl.layers
      .conv2d({ filters: c.outChannels, kernelSize: c.kernel, padding: 'same', useBias: false, name: c.name, kernelInitializer: tfl.initializers.heNormal({ seed: seed * 10007 + 1 + layerIndex++ }) })
      .apply(x) as tfl.SymbolicTensor;
    x = new FusedBatchNormalization({ name: `${c.name}_bn`, momentum: 0.9, epsilon: 1e-3 }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.reLU({ name: `${c.name}_relu` }).apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name: `pool${i + 1}` }).apply(x) as tfl.SymbolicTensor;
  });
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  const logits = tfl.layers
    .dense({ units: data.numClasses, name: 'classifier', kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 10007 + 1 + layerIndex++ }) })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'plain_cnn' });
}

/**
 * The ONNX model (NCHW input `input`, output `logits`). tfjs flattens NHWC,
 * so the pooled map is transposed to NHWC before Flatten and the dense
 * kernel is used as it is.
 */
export function buildPlainCnnOnnx(spec: PlainCnnSpec, data: DataShape, weights: WeightSource, metadata: Record<string, string> = {}): Uint8Array {
  const { convs, flat } = layers(spec, data);
  const g = new OnnxGraphBuilder();
  g.fresh(ONNX_INPUT_NAME);
  g.fresh(ONNX_OUTPUT_NAME);
  let x = ONNX_INPUT_NAME;
  convs.forEach((c, i) => {
    const [kernel] = weights(c.name);
    const folded = foldConvBn(c, kernel, weights(`${c.name}_bn`));
    const y = g.op('Conv', [x, g.float(`${c.name}_weight`, folded.dims, folded.weight), g.float(`${c.name}_bias`, [c.outChannels], folded.bias)], c.name, {
      kernel_shape: [c.kernel, c.kernel],
      strides: [1, 1],
      pads: samePads(c.inSize, c.kernel, 1),
    });
    x = g.op('MaxPool', [g.op('Relu', [y], `${c.name}_relu`)], `pool${i + 1}`, { kernel_shape: [2, 2], strides: [2, 2] });
  });
  x = g.op('Flatten', [g.op('Transpose', [x], 'to_nhwc', { perm: [0, 2, 3, 1] })], 'flatten');
  const [fcKernel, fcBias] = weights('classifier');
  g.node({
    op: 'Gemm',
    inputs: [x, g.float('classifier_weight', [flat, data.numClasses], fcKernel.values), g.float('classifier_bias', [data.numClasses], fcBias.values)],
    outputs: [ONNX_OUTPUT_NAME],
    name: 'classifier',
  });
  return g.toBytes({
    graphName: 'plain_cnn',
    input: { name: ONNX_INPUT_NAME, shape: ['batch', data.inputChannels, spec.resolution, spec.resolution] },
    output: { name: ONNX_OUTPUT_NAME, shape: ['batch', data.numClasses] },
    docString: 'Plain two-convolution CNN baseline from nas-edge. Input: NCHW float32, pixels scaled to [0, 1] then standardised per channel (see metadata).',
    metadata,
  });
}
