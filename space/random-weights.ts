/**
 * Seeded random weights for a plan, laid out as tfjs-layers lays them out:
 * enough to write an ONNX model whose latency equals the trained one's
 * (latency does not depend on weight values), without building a tfjs model.
 */
import seedrandom from 'seedrandom';
import type { WeightSource, WeightTensor } from './build-onnx.js';
import { planConvs, type NetworkPlan } from './plan.js';

/** Seeded random weights for every layer of a plan: an untrained model that costs the same to run (latency measurements, tests). */
export function randomWeights(plan: NetworkPlan, seed = 0): WeightSource {
  const rng = seedrandom(`weights:${seed}`);
  const tensor = (shape: number[], fill: () => number): WeightTensor => ({
    shape,
    values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, fill),
  });
  const noise = () => (rng() - 0.5) * 0.2;
  const table = new Map<string, WeightTensor[]>();
  for (const c of planConvs(plan)) {
    table.set(c.name, [tensor(c.depthwise ? [c.kernel, c.kernel, c.outChannels, 1] : [c.kernel, c.kernel, c.inChannels, c.outChannels], noise)]);
    const C = [c.outChannels];
    table.set(`${c.name}_bn`, [tensor(C, () => 1), tensor(C, noise), tensor(C, noise), tensor(C, () => 1)]);
  }
  for (const b of plan.blocks) {
    const se = b.squeezeExcite;
    if (!se) continue;
    table.set(`${se.name}_reduce`, [tensor([1, 1, se.channels, se.squeezed], noise), tensor([se.squeezed], noise)]);
    table.set(`${se.name}_expand`, [tensor([1, 1, se.squeezed, se.channels], noise), tensor([se.channels], noise)]);
  }
  const fc = plan.classifier;
  table.set(fc.name, [tensor([fc.inFeatures, fc.outFeatures], noise), tensor([fc.outFeatures], noise)]);
  return (name) => {
    const weights = table.get(name);
    if (!weights) throw new Error(`no weights for layer ${name}`);
    return weights;
  };
}
