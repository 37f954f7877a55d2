/**
 * Structured channel pruning of inverted-residual blocks. A block's prunable
 * group is its expanded width: the expand conv's output filters, the
 * depthwise channels, the SE scale and the project conv's input go together,
 * so removing a channel removes it everywhere and the result is an ordinary,
 * smaller genome + weights (no masks): latency really drops. Blocks joined
 * by residual adds keep their shared output width; stem, head and classifier
 * stay. Channels are ranked by the L1 norm of their expand filters.
 *
 * sensitivitySweep → chooseRatios (least sensitivity for a MACs target) →
 * prunePlanWeights; the caller fine-tunes with distillation.
 */
import type { WeightSource, WeightTensor } from '../space/build-onnx.js';
import { planCost, planNetwork, type NetworkPlan } from '../space/plan.js';
import type { Genome } from '../space/types.js';

export interface Strides {
  stem: number;
  stages: number[];
}

/** A prunable group: a block with an expand conv, by stage and block index. */
export interface PruneGroup {
  stage: number;
  block: number;
  name: string;
  hidden: number;
}

export function pruneGroups(genome: Genome, strides: Strides, data: { numClasses: number; inputChannels: number }): PruneGroup[] {
  const plan = planNetwork(genome, strides, data);
  const groups: PruneGroup[] = [];
  let k = 0;
  genome.stages.forEach((stage, s) =>
    stage.blocks.forEach((_, b) => {
      const block = plan.blocks[k++];
      if (block.expand) groups.push({ stage: s, block: b, name: block.name, hidden: block.depthwise.outChannels });
    }),
  );
  return groups;
}

/** Channels to keep after pruning `ratio` of `hidden`: a multiple of 8 where that is at least 16, never fewer than 4. */
export function keptChannels(hidden: number, ratio: number): number {
  const raw = Math.max(4, Math.round(hidden * (1 - ratio)));
  if (raw >= 16) return Math.min(hidden, Math.ceil(raw / 8) * 8);
  return Math.min(hidden, raw);
}

/** Indices of the `count` channels with the largest expand-filter L1 norms, ascending. */
export function channelsByL1(expandKernel: WeightTensor, count: number): number[] {
  const [, , inC, outC] = expandKernel.shape;
  const norms = new Float64Array(outC);
  for (let i = 0; i < inC; i++) for (let o = 0; o < outC; o++) norms[o] += Math.abs(expandKernel.values[i * outC + o]);
  return Array.from(norms.keys())
    .sort((a, b) => norms[b] - norms[a] || a - b)
    .slice(0, count)
    .sort((a, b) => a - b);
}

/** The genome with each group's hidden width set to its kept count (SE bottlenecks unchanged). */
export function prunedGenome(genome: Genome, plan: NetworkPlan, kept: Map<string, number[]>): Genome {
  const pruned: Genome = structuredClone(genome);
  let k = 0;
  pruned.stages.forEach((stage) =>
    stage.blocks.forEach((block) => {
      const b = plan.blocks[k++];
      const keep = kept.get(b.name);
      if (!keep) return;
      block.hidden = keep.length;
      if (b.squeezeExcite) block.squeezed = b.squeezeExcite.squeezed;
    }),
  );
  return pruned;
}

const pick = (w: WeightTensor, axis: number, keep: number[]): WeightTensor => {
  const shape = [...w.shape];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const size = shape[axis];
  const values = new Float32Array(outer * keep.length * inner);
  for (let o = 0; o < outer; o++) {
    keep.forEach((c, j) => values.set(w.values.subarray((o * size + c) * inner, (o * size + c + 1) * inner), (o * keep.length + j) * inner));
  }
  shape[axis] = keep.length;
  return { shape, values };
};

/**
 * The pruned model's weights, by layer name: kept channels copied from the
 * original, everything else as it was.
 */
export function prunedWeights(plan: NetworkPlan, weights: WeightSource, kept: Map<string, number[]>): WeightSource {
  const rewritten = new Map<string, WeightTensor[]>();
  for (const block of plan.blocks) {
    const keep = kept.get(block.name);
    if (!keep || !block.expand) continue;
    rewritten.set(block.expand.name, [pick(weights(block.expand.name)[0], 3, keep)]);
    rewritten.set(`${block.expand.name}_bn`, weights(`${block.expand.name}_bn`).map((w) => pick(w, 0, keep)));
    rewritten.set(block.depthwise.name, [pick(weights(block.depthwise.name)[0], 2, keep)]);
    rewritten.set(`${block.depthwise.name}_bn`, weights(`${block.depthwise.name}_bn`).map((w) => pick(w, 0, keep)));
    if (block.squeezeExcite) {
      const se = block.squeezeExcite.name;
      const [reduceKernel, reduceBias] = weights(`${se}_reduce`);
      rewritten.set(`${se}_reduce`, [pick(reduceKernel, 2, keep), reduceBias]);
      const [expandKernel, expandBias] = weights(`${se}_expand`);
      rewritten.set(`${se}_expand`, [pick(expandKernel, 3, keep), pick(expandBias, 0, keep)]);
    }
    rewritten.set(block.project.name, [pick(weights(block.project.name)[0], 2, keep)]);
  }
  return (name) => rewritten.get(name) ?? weights(name);
}

/** Kept channel indices for each group at the given ratios (groups not named keep everything). */
export function keptByRatio(plan: NetworkPlan, weights: WeightSource, ratios: Map<string, number>): Map<string, number[]> {
  const kept = new Map<string, number[]>();
  for (const block of plan.blocks) {
    const ratio = ratios.get(block.name);
    if (!block.expand || !ratio) continue;
    kept.set(block.name, channelsByL1(weights(block.expand.name)[0], keptChannels(block.depthwise.outChannels, ratio)));
  }
  return kept;
}

/** Accuracy of each group pruned alone at each ratio (no fine-tuning). */
export type Sensitivity = Map<string, Map<number, number>>;

export const SWEEP_RATIOS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/**
 * Greedy allocation: start unpruned; repeatedly take the one-step ratio
 * increase (over all groups) with the least accuracy loss per MAC saved,
 * until MACs fall by `targetReduction` (0–1) or nothing is left to prune.
 */
export function chooseRatios(
  genome: Genome,
  strides: Strides,
  data: { numClasses: number; inputChannels: number },
  baselineAccuracy: number,
  sensitivity: Sensitivity,
  targetReduction: number,
): Map<string, number> {
  const plan = planNetwork(genome, strides, data);
  const baseMacs = planCost(plan).macs;
  const ratios = new Map<string, number>();
  const macsAt = (r: Map<string, number>) => {
    const g = structuredClone(genome);
    let k = 0;
    g.stages.forEach((stage) =>
      stage.blocks.forEach((block) => {
        const b = plan.blocks[k++];
        const ratio = r.get(b.name);
        if (ratio) {
          block.hidden = keptChannels(b.depthwise.outChannels, ratio);
          if (b.squeezeExcite) block.squeezed = b.squeezeExcite.squeezed;
        }
      }),
    );
    return planCost(planNetwork(g, strides, data)).macs;
  };
  let macs = baseMacs;
  while (macs > baseMacs * (1 - targetReduction)) {
    let best: { group: string; ratio: number; score: number; macs: number } | null = null;
    for (const [group, byRatio] of sensitivity) {
      const current = ratios.get(group) ?? 0;
      const next = SWEEP_RATIOS.find((r) => r > current + 1e-9);
      if (next === undefined) continue;
      const trial = new Map(ratios).set(group, next);
      const trialMacs = macsAt(trial);
      const saved = macs - trialMacs;
      if (saved <= 0) continue;
      const loss = Math.max(0, baselineAccuracy - (byRatio.get(next) ?? 0)) - Math.max(0, baselineAccuracy - (current ? byRatio.get(current) ?? 0 : baselineAccuracy));
      const score = (Math.max(loss, 0) + 1e-6) / saved;
      if (!best || score < best.score) best = { group, ratio: next, score, macs: trialMacs };
    }
    if (!best) break;
    ratios.set(best.group, best.ratio);
    macs = best.macs;
  }
  return ratios;
}
