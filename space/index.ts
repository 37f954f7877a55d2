/**
 * `nas-edge/space`: the search space and its genomes (stable ids, seeded
 * sample / mutate / crossover), analytic params and MACs, and the builders
 * genome → tfjs model and genome + weights → ONNX.
 */
export { MobileNetSpace, loadSpaceConfig } from './space.js';
export { SMALL_IMAGE_SPACE, MOBILENET_224_SPACE, NAMED_SPACES } from './defaults.js';
export type { SpaceName } from './defaults.js';
export { sampleGenome, mutateGenome, crossoverGenomes } from './operators.js';
export { genomeId, summariseGenome } from './genome.js';
export { planNetwork, planCost } from './plan.js';
export type { NetworkPlan, BlockPlan, ConvSpec } from './plan.js';
export { buildOnnxModel, tfjsWeights, ONNX_INPUT_NAME, ONNX_OUTPUT_NAME } from './build-onnx.js';
export type { WeightSource, WeightTensor } from './build-onnx.js';
export { buildTfjsModel } from './build-tfjs.js';
export { randomWeights } from './random-weights.js';
export { parseSearchSpace, parseGenome, SpaceConfigError } from './schema.js';
export { readGenomeFile, loadCandidateModel, reexportCandidate } from './candidate-files.js';
export type { GenomeFile } from './candidate-files.js';
export type {
  Activation,
  KernelSize,
  StageSpace,
  SearchSpaceConfig,
  DataShape,
  BlockGene,
  StageGene,
  Genome,
  GenomeCost,
  Random,
  SearchSpace,
  EvolutionarySearchSpace,
} from './types.js';
export { supernetSpace, checkSubnetSpace, subnetWeights, sampleSubnet, DEFAULT_SUPERNET_CHOICES } from './supernet.js';
export type { SupernetSpace, SupernetFixedChoices, ElasticDimension } from './supernet.js';
