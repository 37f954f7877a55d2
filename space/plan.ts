/**
 * A genome unrolled into the layers it stands for. The tfjs builder, the ONNX
 * builder and the analytic cost all read this one plan, so layer names,
 * shapes and counts cannot disagree between them.
 */
import type { Activation, DataShape, Genome, GenomeCost } from './types.js';

/** A convolution followed by batch norm and, optionally, an activation. */
export interface ConvSpec {
  name: string;
  kernel: number;
  stride: number;
  inChannels: number;
  outChannels: number;
  depthwise: boolean;
  activation: Activation | null;
  /** Spatial size of the input (square). */
  inSize: number;
  outSize: number;
}

/** Squeeze-excite: global pool, 1×1 reduce (ReLU), 1×1 expand (hard sigmoid), scale. */
export interface SqueezeExciteSpec {
  name: string;
  channels: number;
  squeezed: number;
  size: number;
}

/** One inverted-residual block of a {@link NetworkPlan}: optional expansion, depthwise, optional squeeze-excite, projection. */
export interface BlockPlan {
  name: string;
  expand: ConvSpec | null;
  depthwise: ConvSpec;
  squeezeExcite: SqueezeExciteSpec | null;
  project: ConvSpec;
  residual: boolean;
}

/** A genome unrolled for a dataset shape: every layer with its sizes, what the builders and cost model read. */
export interface NetworkPlan {
  resolution: number;
  inputChannels: number;
  numClasses: number;
  stem: ConvSpec;
  blocks: BlockPlan[];
  head: ConvSpec;
  classifier: { name: string; inFeatures: number; outFeatures: number };
}

/** Output size of a TF-style 'same' convolution. */
export function sameOutputSize(size: number, stride: number): number {
  return Math.ceil(size / stride);
}

/** SE bottleneck width: a quarter of the channels, at least 8. */
export function squeezeWidth(channels: number): number {
  return Math.max(8, Math.round(channels / 4));
}

/** Unrolls a genome; strides come from the space, everything else from the genome. */
export function planNetwork(
  genome: Genome,
  strides: { stem: number; stages: number[] },
  data: DataShape,
): NetworkPlan {
  let size = genome.resolution;
  const conv = (
    name: string,
    kernel: number,
    stride: number,
    inChannels: number,
    outChannels: number,
    depthwise: boolean,
    activation: Activation | null,
  ): ConvSpec => {
    const inSize = size;
    size = sameOutputSize(size, stride);
    return { name, kernel, stride, inChannels, outChannels, depthwise, activation, inSize, outSize: size };
  };
  const firstActivation = genome.stages[0]?.activation ?? 'relu6';
  const stem = conv('stem', 3, strides.stem, data.inputChannels, genome.stemWidth, false, firstActivation);
  let channels = genome.stemWidth;
  const blocks: BlockPlan[] = [];
  genome.stages.forEach((stage, s) => {
    stage.blocks.forEach((block, b) => {
      const name = `s${s}b${b}`;
      const stride = b === 0 ? strides.stages[s] : 1;
      const inChannels = channels;
      const hidden = block.hidden ?? inChannels * block.expand;
      const expand =
        block.expand === 1 && block.hidden === undefined ? null : conv(`${name}_expand`, 1, 1, inChannels, hidden, false, stage.activation);
      const depthwise = conv(`${name}_dw`, block.kernel, stride, hidden, hidden, true, stage.activation);
      const squeezeExcite = stage.squeezeExcite
        ? { name: `${name}_se`, channels: hidden, squeezed: block.squeezed ?? squeezeWidth(hidden), size }
        : null;
      const project = conv(`${name}_project`, 1, 1, hidden, stage.width, false, null);
      blocks.push({
        name,
        expand,
        depthwise,
        squeezeExcite,
        project,
        residual: stride === 1 && inChannels === stage.width,
      });
      channels = stage.width;
    });
  });
  const lastActivation = genome.stages.at(-1)?.activation ?? 'relu6';
  const head = conv('head', 1, 1, channels, genome.headWidth, false, lastActivation);
  return {
    resolution: genome.resolution,
    inputChannels: data.inputChannels,
    numClasses: data.numClasses,
    stem,
    blocks,
    head,
    classifier: { name: 'classifier', inFeatures: genome.headWidth, outFeatures: data.numClasses },
  };
}

/** Every conv of a plan in execution order. */
export function planConvs(plan: NetworkPlan): ConvSpec[] {
  const convs = [plan.stem];
  for (const block of plan.blocks) {
    if (block.expand) convs.push(block.expand);
    convs.push(block.depthwise, block.project);
  }
  convs.push(plan.head);
  return convs;
}

/**
 * Parameters (as tfjs counts them: BN's moving mean and variance included) and
 * MACs per image. Elementwise work (BN, activations, residual adds) is not MACs.
 */
export function planCost(plan: NetworkPlan): GenomeCost {
  let params = 0;
  let macs = 0;
  for (const c of planConvs(plan)) {
    const weights = c.depthwise ? c.kernel * c.kernel * c.outChannels : c.kernel * c.kernel * c.inChannels * c.outChannels;
    params += weights + 4 * c.outChannels;
    macs += weights * c.outSize * c.outSize;
  }
  for (const block of plan.blocks) {
    const se = block.squeezeExcite;
    if (!se) continue;
    params += 2 * se.channels * se.squeezed + se.squeezed + se.channels;
    macs += 2 * se.channels * se.squeezed + se.channels * se.size * se.size;
  }
  const fc = plan.classifier;
  params += fc.inFeatures * fc.outFeatures + fc.outFeatures;
  macs += fc.inFeatures * fc.outFeatures;
  return { params, macs };
}
