/**
 * genome → tfjs-layers model (channels-last) for training. Only standard
 * layers appear in the saved topology, so `tf.loadLayersModel` reads it back
 * without this package; hard-swish is spelled x · relu6(x + 3) / 6.
 */
import { tensor } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { FusedBatchNormalization } from './fused-batch-norm.js';
import type { ConvSpec, NetworkPlan } from './plan.js';

type SymbolicTensor = tfl.SymbolicTensor;

/** Builds the model of a plan; the same plan and seed give the same weights. */
export function buildTfjsModel(plan: NetworkPlan, seed = 0): tfl.LayersModel {
  // tfjs reads a seed of 0 as "no seed" (Math.random), so layer seeds start at 1.
  let layerIndex = 0;
  const init = () => tfl.initializers.heNormal({ seed: seed * 10007 + 1 + layerIndex++ });

  const activate = (x: SymbolicTensor, activation: ConvSpec['activation'], name: string): SymbolicTensor => {
    if (activation === null) return x;
    const relu6 = (t: SymbolicTensor, n: string) => tfl.layers.reLU({ maxValue: 6, name: n }).apply(t) as SymbolicTensor;
    if (activation === 'relu6') return relu6(x, `${name}_relu6`);
    const shifted = tfl.layers.rescaling({ scale: 1, offset: 3, name: `${name}_hs_shift` }).apply(x) as SymbolicTensor;
    const gate = tfl.layers
      .rescaling({ scale: 1 / 6, offset: 0, name: `${name}_hs_scale` })
      .apply(relu6(shifted, `${name}_hs_relu6`)) as SymbolicTensor;
    return tfl.layers.multiply({ name: `${name}_hswish` }).apply([x, gate]) as SymbolicTensor;
  };

  const convBn = (x: SymbolicTensor, c: ConvSpec): SymbolicTensor => {
    const common = { kernelSize: c.kernel, strides: c.stride, padding: 'same' as const, useBias: false, name: c.name };
    const conv = c.depthwise
      ? tfl.layers.depthwiseConv2d({ ...common, depthMultiplier: 1, depthwiseInitializer: init() })
      : tfl.layers.conv2d({ ...common, filters: c.outChannels, kernelInitializer: init() });
    const bn = new FusedBatchNormalization({ name: `${c.name}_bn`, momentum: 0.9, epsilon: 1e-3 });
    const y = bn.apply(conv.apply(x) as SymbolicTensor) as SymbolicTensor;
    return activate(y, c.activation, c.name);
  };

  const input = tfl.input({ shape: [plan.resolution, plan.resolution, plan.inputChannels], name: 'input' });
  let x = convBn(input, plan.stem);
  for (const block of plan.blocks) {
    const shortcut = x;
    if (block.expand) x = convBn(x, block.expand);
    x = convBn(x, block.depthwise);
    const se = block.squeezeExcite;
    if (se) {
      let s = tfl.layers.globalAveragePooling2d({ name: `${se.name}_pool` }).apply(x) as SymbolicTensor;
      s = tfl.layers.reshape({ targetShape: [1, 1, se.channels], name: `${se.name}_reshape` }).apply(s) as SymbolicTensor;
      s = tfl.layers
        .conv2d({ filters: se.squeezed, kernelSize: 1, activation: 'relu', name: `${se.name}_reduce`, kernelInitializer: init() })
        .apply(s) as SymbolicTensor;
      s = tfl.layers
        .conv2d({ filters: se.channels, kernelSize: 1, activation: 'hardSigmoid', name: `${se.name}_expand`, kernelInitializer: init() })
        .apply(s) as SymbolicTensor;
      x = tfl.layers.multiply({ name: `${se.name}_scale` }).apply([x, s]) as SymbolicTensor;
    }
    x = convBn(x, block.project);
    if (block.residual) x = tfl.layers.add({ name: `${block.name}_add` }).apply([shortcut, x]) as SymbolicTensor;
  }
  x = convBn(x, plan.head);
  x = tfl.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as SymbolicTensor;
  const logits = tfl.layers
    .dense({
      units: plan.numClasses,
      name: plan.classifier.name,
      kernelInitializer: tfl.initializers.glorotUniform({ seed: seed * 10007 + 1 + layerIndex++ }),
    })
    .apply(x) as SymbolicTensor;
  return tfl.model({ inputs: input, outputs: logits, name: 'candidate' });
}

/**
 * Sets every layer that has weights from `weights` (by layer name, tfjs
 * order), e.g. a pruned model from its parent's kept channels.
 */
export function setModelWeights(model: tfl.LayersModel, weights: (layerName: string) => Array<{ shape: number[]; values: Float32Array }>): void {
  for (const layer of model.layers) {
    if (!layer.getWeights().length) continue;
    const source = weights(layer.name);
    layer.setWeights(source.map((w) => tensor(w.values, w.shape)));
  }
}
