/**
 * Structured channel pruning of MobileNet-style networks. Two kinds of
 * prunable group respect the architecture:
 *
 * - a block's expanded width (`s1b0`): its expand conv's output filters, the
 *   depthwise channels, the SE scale and the project conv's input go together;
 * - a stage's output width (`stage2`): every block of the stage writes it and
 *   residual adds join them, so all their project outputs go together, with
 *   the inputs of whatever reads the stage (its own later blocks, the next
 *   stage's first block, or the head). A stage whose first block adds a
 *   residual from the previous stage is tied to it and is not a group.
 *
 * Stem, head and classifier widths stay. Channels are ranked by the L1 norm
 * of the filters that produce them. The result is an ordinary smaller genome
 * (explicit `hidden` widths) + weights — no masks — so latency really drops.
 *
 * sensitivity sweep → chooseRatios (least loss per MAC for a target) →
 * keptByRatio → prunedGenome / prunedWeights; the caller fine-tunes.
 */
import type { WeightSource, WeightTensor } from '../space/build-onnx.js';
import { planCost, planNetwork, type BlockPlan, type NetworkPlan } from '../space/plan.js';
import type { Genome } from '../space/types.js';

export interface Strides {
  stem: number;
  stages: number[];
}

type DataShape = { numClasses: number; inputChannels: number };

/** A prunable group: a block's expanded width, or a stage's output width. */
export interface PruneGroup {
  kind: 'hidden' | 'stage';
  /** `s<stage>b<block>` or `stage<stage>`. */
  name: string;
  stage: number;
  channels: number;
}

/** The blocks of each stage, in order. */
function blocksByStage(genome: Genome, plan: NetworkPlan): BlockPlan[][] {
  let k = 0;
  return genome.stages.map((s) => s.blocks.map(() => plan.blocks[k++]));
}

export function pruneGroups(genome: Genome, strides: Strides, data: DataShape): PruneGroup[] {
  const plan = planNetwork(genome, strides, data);
  const groups: PruneGroup[] = [];
  blocksByStage(genome, plan).forEach((blocks, s) => {
    for (const b of blocks) if (b.expand) groups.push({ kind: 'hidden', name: b.name, stage: s, channels: b.depthwise.outChannels });
    if (!blocks[0].residual) groups.push({ kind: 'stage', name: `stage${s}`, stage: s, channels: genome.stages[s].width });
  });
  return groups;
}

/** Channels to keep after pruning `ratio` of `channels`: a multiple of 8 where that is at least 16, never fewer than 4. */
export function keptChannels(channels: number, ratio: number): number {
  const raw = Math.max(4, Math.round(channels * (1 - ratio)));
  if (raw >= 16) return Math.min(channels, Math.ceil(raw / 8) * 8);
  return Math.min(channels, raw);
}

/** Indices of the `count` largest of `norms`, ascending. */
function largest(norms: Float64Array, count: number): number[] {
  return Array.from(norms.keys())
    .sort((a, b) => norms[b] - norms[a] || a - b)
    .slice(0, count)
    .sort((a, b) => a - b);
}

/** L1 norm of each output filter of 1×1-conv kernels [1, 1, in, out], summed over kernels. */
function outputL1(kernels: WeightTensor[]): Float64Array {
  const out = kernels[0].shape[3];
  const norms = new Float64Array(out);
  for (const k of kernels) for (let i = 0; i < k.values.length; i++) norms[i % out] += Math.abs(k.values[i]);
  return norms;
}

/** Indices of the `count` channels with the largest expand-filter L1 norms, ascending. */
export function channelsByL1(expandKernel: WeightTensor, count: number): number[] {
  return largest(outputL1([expandKernel]), count);
}

/** Per block: which input, hidden and output channels survive (undefined: all). */
interface BlockKeep {
  input?: number[];
  hidden?: number[];
  output?: number[];
}

function blockKeeps(genome: Genome, plan: NetworkPlan, kept: Map<string, number[]>): { blocks: Map<string, BlockKeep>; headInput?: number[] } {
  const blocks = new Map<string, BlockKeep>();
  let previous: number[] | undefined;
  blocksByStage(genome, plan).forEach((stageBlocks, s) => {
    const output = kept.get(`stage${s}`);
    stageBlocks.forEach((b, j) => {
      const input = j === 0 ? previous : output;
      // Without an expand conv the depthwise runs on the input channels themselves.
      const hidden = b.expand ? kept.get(b.name) : input;
      blocks.set(b.name, { input, hidden, output });
    });
    previous = output;
  });
  return { blocks, headInput: previous };
}

/**
 * The pruned genome: stage widths and explicit hidden widths (SE bottlenecks
 * unchanged). Throws if pruning would change where residual adds are.
 */
export function prunedGenome(genome: Genome, plan: NetworkPlan, kept: Map<string, number[]>, strides?: Strides): Genome {
  const pruned: Genome = structuredClone(genome);
  const { blocks } = blockKeeps(genome, plan, kept);
  pruned.stages.forEach((stage, s) => {
    const width = kept.get(`stage${s}`);
    if (width) stage.width = width.length;
  });
  let k = 0;
  for (const stage of pruned.stages) {
    for (const block of stage.blocks) {
      const b = plan.blocks[k++];
      const keep = blocks.get(b.name)!;
      if (b.expand) block.hidden = keep.hidden?.length ?? b.depthwise.outChannels;
      if (b.squeezeExcite) block.squeezed = b.squeezeExcite.squeezed;
    }
  }
  if (strides) {
    const after = planNetwork(pruned, strides, { numClasses: plan.numClasses, inputChannels: plan.inputChannels });
    after.blocks.forEach((b, i) => {
      if (b.residual !== plan.blocks[i].residual) throw new RangeError(`pruning would ${b.residual ? 'add' : 'remove'} the residual add of ${b.name}`);
    });
  }
  return pruned;
}

const pick = (w: WeightTensor, axis: number, keep: number[] | undefined): WeightTensor => {
  if (!keep) return w;
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

/** The pruned model's weights by layer name: surviving channels copied, everything else as it was. */
export function prunedWeights(genome: Genome, plan: NetworkPlan, weights: WeightSource, kept: Map<string, number[]>): WeightSource {
  const rewritten = new Map<string, WeightTensor[]>();
  const { blocks, headInput } = blockKeeps(genome, plan, kept);
  const bn = (name: string, keep: number[] | undefined) => rewritten.set(`${name}_bn`, weights(`${name}_bn`).map((w) => pick(w, 0, keep)));
  for (const b of plan.blocks) {
    const { input, hidden, output } = blocks.get(b.name)!;
    if (!input && !hidden && !output) continue;
    if (b.expand) {
      rewritten.set(b.expand.name, [pick(pick(weights(b.expand.name)[0], 2, input), 3, hidden)]);
      bn(b.expand.name, hidden);
    }
    rewritten.set(b.depthwise.name, [pick(weights(b.depthwise.name)[0], 2, hidden)]);
    bn(b.depthwise.name, hidden);
    if (b.squeezeExcite) {
      const se = b.squeezeExcite.name;
      const [reduceKernel, reduceBias] = weights(`${se}_reduce`);
      rewritten.set(`${se}_reduce`, [pick(reduceKernel, 2, hidden), reduceBias]);
      const [expandKernel, expandBias] = weights(`${se}_expand`);
      rewritten.set(`${se}_expand`, [pick(expandKernel, 3, hidden), pick(expandBias, 0, hidden)]);
    }
    rewritten.set(b.project.name, [pick(pick(weights(b.project.name)[0], 2, hidden), 3, output)]);
    bn(b.project.name, output);
  }
  if (headInput) rewritten.set(plan.head.name, [pick(weights(plan.head.name)[0], 2, headInput)]);
  return (name) => rewritten.get(name) ?? weights(name);
}

/** Kept channel indices for each group pruned at the given ratios (groups not named keep everything). */
export function keptByRatio(genome: Genome, plan: NetworkPlan, weights: WeightSource, ratios: Map<string, number>): Map<string, number[]> {
  const kept = new Map<string, number[]>();
  const stages = blocksByStage(genome, plan);
  for (const [name, ratio] of ratios) {
    if (!ratio) continue;
    const stage = /^stage(\d+)$/.exec(name);
    if (stage) {
      const projects = stages[Number(stage[1])].map((b) => weights(b.project.name)[0]);
      kept.set(name, largest(outputL1(projects), keptChannels(projects[0].shape[3], ratio)));
      continue;
    }
    const block = plan.blocks.find((b) => b.name === name);
    if (!block?.expand) throw new RangeError(`${name} is not a prunable group`);
    kept.set(name, channelsByL1(weights(block.expand.name)[0], keptChannels(block.depthwise.outChannels, ratio)));
  }
  return kept;
}

/** Accuracy of each group pruned alone at each ratio (no fine-tuning). */
export type Sensitivity = Map<string, Map<number, number>>;

export const SWEEP_RATIOS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** MACs of the genome with these ratios, or null when they would move a residual add. */
function macsAt(genome: Genome, strides: Strides, data: DataShape, plan: NetworkPlan, ratios: Map<string, number>): number | null {
  // Channel counts are what matter here, so index lists need not be the real ones.
  const kept = new Map<string, number[]>();
  const groups = new Map(pruneGroups(genome, strides, data).map((g) => [g.name, g]));
  for (const [name, ratio] of ratios) kept.set(name, Array.from({ length: keptChannels(groups.get(name)!.channels, ratio) }, (_, i) => i));
  try {
    return planCost(planNetwork(prunedGenome(genome, plan, kept, strides), strides, data)).macs;
  } catch {
    return null;
  }
}

/**
 * Greedy allocation: start unpruned; repeatedly take the one-step ratio
 * increase (over all groups) with the least accuracy loss per MAC saved,
 * until MACs fall by `targetReduction` (0–1) or nothing is left to prune.
 */
export function chooseRatios(
  genome: Genome,
  strides: Strides,
  data: DataShape,
  baselineAccuracy: number,
  sensitivity: Sensitivity,
  targetReduction: number,
): Map<string, number> {
  const plan = planNetwork(genome, strides, data);
  const baseMacs = planCost(plan).macs;
  const ratios = new Map<string, number>();
  const lossAt = (byRatio: Map<number, number>, ratio: number) => (ratio ? Math.max(0, baselineAccuracy - (byRatio.get(ratio) ?? 0)) : 0);
  let macs = baseMacs;
  while (macs > baseMacs * (1 - targetReduction)) {
    let best: { group: string; ratio: number; score: number; macs: number } | null = null;
    for (const [group, byRatio] of sensitivity) {
      const current = ratios.get(group) ?? 0;
      const next = SWEEP_RATIOS.find((r) => r > current + 1e-9 && byRatio.has(r));
      if (next === undefined) continue;
      const trialMacs = macsAt(genome, strides, data, plan, new Map(ratios).set(group, next));
      if (trialMacs === null || trialMacs >= macs) continue;
      const score = (Math.max(0, lossAt(byRatio, next) - lossAt(byRatio, current)) + 1e-6) / (macs - trialMacs);
      if (!best || score < best.score) best = { group, ratio: next, score, macs: trialMacs };
    }
    if (!best) break;
    ratios.set(best.group, best.ratio);
    macs = best.macs;
  }
  return ratios;
}
