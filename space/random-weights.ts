/**
 * Seeded random weights laid out as tfjs-layers lays them out: enough to
 * write an ONNX model whose latency equals the trained one's (latency does
 * not depend on weight values), without building a tfjs model.
 */
import seedrandom from 'seedrandom';
import type { WeightSource, WeightTensor } from './build-onnx.js';
import { planConvs, type ConvSpec, type NetworkPlan } from './plan.js';

/** Named layers' random tensors, filled in as the layers are declared; `source` reads them back by layer name. */
export class RandomWeightTable {
  private readonly rng: seedrandom.PRNG;
  private readonly table = new Map<string, WeightTensor[]>();

  constructor(seed = 0) {
    this.rng = seedrandom(`weights:${seed}`);
  }

  private tensor(shape: number[], fill: () => number): WeightTensor {
    return { shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, fill) };
  }

  private readonly noise = () => (this.rng() - 0.5) * 0.2;

  /** A convolution without bias and its batch norm (`<name>_bn`: gamma, beta, moving mean, moving variance). */
  conv(c: ConvSpec): this {
    this.table.set(c.name, [this.tensor(c.depthwise ? [c.kernel, c.kernel, c.outChannels, 1] : [c.kernel, c.kernel, c.inChannels, c.outChannels], this.noise)]);
    const C = [c.outChannels];
    this.table.set(`${c.name}_bn`, [this.tensor(C, () => 1), this.tensor(C, this.noise), this.tensor(C, this.noise), this.tensor(C, () => 1)]);
    return this;
  }

  /** A 1×1 convolution with bias (squeeze-excite's reduce and expand). */
  pointwiseWithBias(name: string, inChannels: number, outChannels: number): this {
    this.table.set(name, [this.tensor([1, 1, inChannels, outChannels], this.noise), this.tensor([outChannels], this.noise)]);
    return this;
  }

  /** A dense layer: kernel [in, out] and bias. */
  dense(name: string, inFeatures: number, outFeatures: number): this {
    this.table.set(name, [this.tensor([inFeatures, outFeatures], this.noise), this.tensor([outFeatures], this.noise)]);
    return this;
  }

  source(): WeightSource {
    return (name) => {
      const weights = this.table.get(name);
      if (!weights) throw new Error(`no weights for layer ${name}`);
      return weights;
    };
  }
}

/** Seeded random weights for every layer of a plan: an untrained model that costs the same to run (latency measurements, tests). */
export function randomWeights(plan: NetworkPlan, seed = 0): WeightSource {
  const table = new RandomWeightTable(seed);
  for (const c of planConvs(plan)) table.conv(c);
  for (const b of plan.blocks) {
    const se = b.squeezeExcite;
    if (!se) continue;
    table.pointwiseWithBias(`${se.name}_reduce`, se.channels, se.squeezed).pointwiseWithBias(`${se.name}_expand`, se.squeezed, se.channels);
  }
  const fc = plan.classifier;
  return table.dense(fc.name, fc.inFeatures, fc.outFeatures).source();
}
