/**
 * Contracts of the search space: what a space allows, what one network (a
 * genome) is, and the capabilities a searcher may ask of a space. Types and
 * docs only; the code lives beside them.
 */

/** Non-linearity after expand and depthwise convs. Both map to single ONNX ops. */
export type Activation = 'relu6' | 'hswish';

/** Depthwise kernel sizes the builders support. */
export type KernelSize = 3 | 5 | 7;

/** The choices one stage of inverted-residual blocks may take. */
export interface StageSpace {
  /** Allowed block counts. */
  depths: number[];
  /** Allowed output channel counts. */
  widths: number[];
  /** Allowed expansion ratios of the 1×1 expand conv (1 means no expand conv). */
  expandRatios: number[];
  /** Allowed depthwise kernel sizes. */
  kernelSizes: KernelSize[];
  /** Whether squeeze-excite may be off (`false`), on (`true`) or both. */
  squeezeExcite: boolean[];
  /** Allowed activations. */
  activations: Activation[];
  /** Stride of the stage's first block; later blocks use 1. */
  stride: 1 | 2;
}

/** A MobileNet-style space: stem, stages of inverted-residual blocks, head. */
export interface SearchSpaceConfig {
  /** Input resolutions (square); data are resized to the chosen one. */
  resolutions: number[];
  /** Stem conv (3×3) output widths. */
  stemWidths: number[];
  /** Stem stride. */
  stemStride: 1 | 2;
  stages: StageSpace[];
  /** Widths of the last 1×1 conv before global pooling. */
  headWidths: number[];
}

/** What the data decide rather than the search. */
export interface DataShape {
  numClasses: number;
  inputChannels: number;
}

/** One inverted-residual block. */
export interface BlockGene {
  kernel: KernelSize;
  expand: number;
  /**
   * Pruned models only: the expanded (depthwise) width, overriding
   * input × expand, and the SE bottleneck kept from the unpruned model.
   * Search genomes never carry them.
   */
  hidden?: number;
  squeezed?: number;
}

/** One stage: its width, activation and SE choice, and one gene per block. */
export interface StageGene {
  width: number;
  activation: Activation;
  squeezeExcite: boolean;
  /** `blocks.length` is the stage's depth. */
  blocks: BlockGene[];
}

/**
 * One network of the space. A plain JSON object: its id (see genome.ts) is a
 * hash of its canonical form and names the architecture, not the weights.
 */
export interface Genome {
  resolution: number;
  stemWidth: number;
  stages: StageGene[];
  headWidth: number;
}

/** Analytic size of a genome, computed without building it. */
export interface GenomeCost {
  params: number;
  /** Multiply-accumulates for one image. */
  macs: number;
}

/** A seeded source of uniform numbers in [0, 1). */
export type Random = () => number;

/** The base capability every searcher needs. */
export interface SearchSpace {
  readonly config: SearchSpaceConfig;
  readonly data: DataShape;
  sample(rng: Random): Genome;
  cost(genome: Genome): GenomeCost;
  id(genome: Genome): string;
}

/** What evolutionary searchers additionally need. */
export interface EvolutionarySearchSpace extends SearchSpace {
  mutate(genome: Genome, rng: Random, probability?: number): Genome;
  crossover(a: Genome, b: Genome, rng: Random): Genome;
}
