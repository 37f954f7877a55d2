/**
 * Weight sharing, as pure functions of the space. A supernet is the space's
 * largest network; every other network of its space (a subnet) is a view of
 * it, as in Once-for-All and BigNAS:
 *   - depth: the first d blocks of a stage (block names s<stage>b<j> match);
 *   - width, expand ratio, stem and head width: the first channels of each
 *     layer, so a subnet's weights are the leading slice on every channel axis;
 *   - kernel: the centre k×k of the largest depthwise kernel;
 *   - resolution: the same weights at another input size.
 * So a subnet's weights come out of the supernet's by {@link subnetWeights},
 * and the existing builders (tfjs, ONNX) and the batch-norm recalibration
 * take them unchanged.
 *
 * Some choices are not a slice of one set of weights: a stage's activation
 * (the same weights under relu6 and hard-swish are two different functions),
 * squeeze-excite on or off (the block's later layers see differently scaled
 * inputs), and expand ratio 1 beside larger ones (with ratio 1 a block has no
 * expand conv, so its depthwise kernel would read the block's input channels
 * where the supernet's reads expanded ones). {@link supernetSpace} fixes the
 * first two per stage and drops ratio 1 where larger ratios exist; the
 * searcher then samples the narrowed space, so every candidate is a subnet.
 */
import { planNetwork, type NetworkPlan } from './plan.js';
import { SpaceConfigError } from './schema.js';
import { subspaceProblem } from './subspace.js';
import type { Activation, DataShape, Genome, SearchSpaceConfig, StageSpace } from './types.js';
import type { WeightSource, WeightTensor } from './build-onnx.js';

/** What a supernet fixes in every stage that offers a choice. */
export interface SupernetFixedChoices {
  /** The activation of stages that allow more than one. @default 'hswish' */
  activation?: Activation;
  /** Squeeze-excite in stages that allow both. @default false */
  squeezeExcite?: boolean;
}

/** The choices a supernet fixes by default (see {@link SupernetFixedChoices}). */
export const DEFAULT_SUPERNET_CHOICES: Required<SupernetFixedChoices> = { activation: 'hswish', squeezeExcite: false };

/** One choice of the space the supernet narrowed, for messages and records. */
export interface NarrowedChoice {
  field: string;
  from: unknown[];
  to: unknown[];
}

/** A space narrowed so that one set of weights holds every network in it. */
export interface SupernetSpace {
  /** The narrowed space: sample from it and every genome is a subnet. */
  config: SearchSpaceConfig;
  /** What was narrowed, field by field. */
  narrowed: NarrowedChoice[];
  /** The supernet itself: the largest choice everywhere. */
  largest: Genome;
  /** The smallest choice everywhere (the sandwich rule's lower slice). */
  smallest: Genome;
}

/**
 * Narrows `config` to a weight-sharing space. A stage that allows several
 * activations (or both SE settings) keeps the fixed one; a fixed choice the
 * stage does not allow is refused with the field named, as is a space whose
 * resolutions the supernet cannot share (none today: every resolution works
 * with the same weights). Expand ratio 1 is dropped from stages that also
 * allow larger ratios.
 */
export function supernetSpace(config: SearchSpaceConfig, choices: SupernetFixedChoices = {}, source?: string): SupernetSpace {
  const fixed = { ...DEFAULT_SUPERNET_CHOICES, ...choices };
  const narrowed: NarrowedChoice[] = [];
  const stages = config.stages.map((stage, i): StageSpace => {
    const narrow = <K extends 'activations' | 'squeezeExcite' | 'expandRatios'>(key: K, to: StageSpace[K]): StageSpace[K] => {
      if (to.length !== stage[key].length) narrowed.push({ field: `stages[${i}].${key}`, from: [...stage[key]], to: [...to] });
      return to;
    };
    const one = <T>(key: 'activations' | 'squeezeExcite', allowed: readonly T[], want: T, flag: string): T[] => {
      if (allowed.length === 1) return [...allowed];
      if (!allowed.includes(want)) {
        throw new SpaceConfigError(
          `stages[${i}].${key}`,
          `allows ${JSON.stringify(allowed)}, and a supernet shares one set of weights only under one of them; it fixes ${JSON.stringify(want)}, which this stage does not allow (choose one it allows with ${flag})`,
          source,
        );
      }
      return [want];
    };
    const larger = stage.expandRatios.filter((r) => r > 1);
    return {
      ...stage,
      activations: narrow('activations', one('activations', stage.activations, fixed.activation, '--activation')),
      squeezeExcite: narrow('squeezeExcite', one('squeezeExcite', stage.squeezeExcite, fixed.squeezeExcite, '--squeeze-excite')),
      expandRatios: narrow('expandRatios', larger.length && larger.length < stage.expandRatios.length ? larger : [...stage.expandRatios]),
    };
  });
  const narrowedConfig: SearchSpaceConfig = { ...config, stages };
  return { config: narrowedConfig, narrowed, largest: extremeGenome(narrowedConfig, Math.max), smallest: extremeGenome(narrowedConfig, Math.min) };
}

/** The largest genome of a narrowed space: the supernet a cached supernet.json's `space` describes. */
export function largestGenome(config: SearchSpaceConfig): Genome {
  return extremeGenome(config, Math.max);
}

/** The genome with `pick` (max or min) of every numeric choice; activation and SE are fixed in a supernet space. */
function extremeGenome(config: SearchSpaceConfig, pick: (...values: number[]) => number): Genome {
  return {
    resolution: pick(...config.resolutions),
    stemWidth: pick(...config.stemWidths),
    stages: config.stages.map((s) => ({
      width: pick(...s.widths),
      activation: s.activations[0],
      squeezeExcite: s.squeezeExcite[0],
      blocks: Array.from({ length: pick(...s.depths) }, () => ({ kernel: pick(...s.kernelSizes) as Genome['stages'][number]['blocks'][number]['kernel'], expand: pick(...s.expandRatios) })),
    })),
    headWidth: pick(...config.headWidths),
  };
}

/**
 * Checks that every network of `space` is a subnet of a supernet trained on
 * `supernet` (a narrowed config, {@link SupernetSpace}.config): same stages
 * and strides, and every choice one the supernet holds. A space that is not
 * is refused with the first field that differs.
 */
export function checkSubnetSpace(space: SearchSpaceConfig, supernet: SearchSpaceConfig, source?: string): void {
  const problem = subspaceProblem(space, supernet, 'the supernet');
  if (problem) throw new SpaceConfigError(problem.field, problem.problem, source);
}

/** The plan of a space's supernet (its largest network) for a data shape. */
export function supernetPlan(space: SupernetSpace, data: DataShape): NetworkPlan {
  return planNetwork(space.largest, stridesOf(space.config), data);
}

/** The strides a space fixes, as the planner takes them. */
export function stridesOf(config: SearchSpaceConfig): { stem: number; stages: number[] } {
  return { stem: config.stemStride, stages: config.stages.map((s) => s.stride) };
}

/**
 * Every layer of a plan with the shapes of its weights, in tfjs-layers' order
 * (the same layout as buildTfjsModel and RandomWeightTable): convs without
 * bias and their `_bn` (gamma, beta, moving mean, moving variance), SE's
 * reduce and expand with bias, the classifier's kernel and bias.
 */
export function planWeightShapes(plan: NetworkPlan): Map<string, number[][]> {
  const shapes = new Map<string, number[][]>();
  const convs = [plan.stem, ...plan.blocks.flatMap((b) => [b.expand, b.depthwise, b.project]), plan.head];
  for (const c of convs) {
    if (!c) continue;
    shapes.set(c.name, [c.depthwise ? [c.kernel, c.kernel, c.outChannels, 1] : [c.kernel, c.kernel, c.inChannels, c.outChannels]]);
    shapes.set(`${c.name}_bn`, [[c.outChannels], [c.outChannels], [c.outChannels], [c.outChannels]]);
  }
  for (const b of plan.blocks) {
    const se = b.squeezeExcite;
    if (!se) continue;
    shapes.set(`${se.name}_reduce`, [[1, 1, se.channels, se.squeezed], [se.squeezed]]);
    shapes.set(`${se.name}_expand`, [[1, 1, se.squeezed, se.channels], [se.channels]]);
  }
  const fc = plan.classifier;
  shapes.set(fc.name, [[fc.inFeatures, fc.outFeatures], [fc.outFeatures]]);
  return shapes;
}

/** Suffix of a depthwise layer's kernel transformation matrices in a supernet's weights. */
export const KERNEL_TRANSFORM_SUFFIX = '_kt';

/**
 * Once-for-All's kernel transformation: a smaller depthwise kernel is not the
 * bare centre of the larger one but that centre times a learned matrix, one
 * per step down (7 → 5: 25×25, 5 → 3: 9×9), shared by the layer's channels,
 * so that the small kernel need not serve as the large one's centre too. The
 * sizes of those steps for a largest kernel `kernel`: [[25, 25], [9, 9]] for 7.
 */
export function kernelTransformShapes(kernel: number): number[][] {
  const shapes: number[][] = [];
  for (let k = kernel - 2; k >= 3; k -= 2) shapes.push([k * k, k * k]);
  return shapes;
}

/**
 * The weights' shapes of a supernet: its plan's, and with `kernelTransform`
 * the transformation matrices of every depthwise layer larger than 3×3
 * (`<layer>_kt`, after the layer's own), in one fixed order: checkpoints and
 * caches list tensors in it.
 */
export function supernetWeightShapes(plan: NetworkPlan, kernelTransform = false): Map<string, number[][]> {
  const shapes = planWeightShapes(plan);
  if (!kernelTransform) return shapes;
  for (const b of plan.blocks) {
    const matrices = kernelTransformShapes(b.depthwise.kernel);
    if (matrices.length) shapes.set(`${b.depthwise.name}${KERNEL_TRANSFORM_SUFFIX}`, matrices);
  }
  return shapes;
}

/**
 * A depthwise kernel [K, K, C, 1] brought down to k×k through the
 * transformation matrices `matrices` (kernelTransformShapes(K) order): at each
 * step the centre (s − 2)×(s − 2) of every channel, as a row vector, times the
 * step's matrix.
 */
export function transformKernel(kernel: WeightTensor, k: number, matrices: readonly WeightTensor[]): WeightTensor {
  let current = kernel;
  const channels = kernel.shape[2];
  for (let step = 0, size = kernel.shape[0]; size > k; step++, size -= 2) {
    const next = size - 2;
    const centre = sliceTensor(current, sliceBegin(current.shape, [next, next, channels, 1], 'depthwise kernel'), [next, next, channels, 1]);
    const m = matrices[step];
    const taps = next * next;
    if (!m || m.shape[0] !== taps) throw new RangeError(`a ${size}→${next} kernel step needs a ${taps}×${taps} matrix`);
    const out = new Float32Array(taps * channels);
    for (let c = 0; c < channels; c++) {
      for (let j = 0; j < taps; j++) {
        let sum = 0;
        for (let i = 0; i < taps; i++) sum += centre.values[i * channels + c] * m.values[i * taps + j];
        out[j * channels + c] = sum;
      }
    }
    current = { shape: [next, next, channels, 1], values: out };
  }
  return current;
}

/**
 * Where a slice of shape `shape` starts in a tensor of shape `full`: the
 * centre of a conv kernel's two spatial axes (rank 4: [k, k, in, out]), the
 * start of every other axis. Throws when the slice does not fit.
 */
export function sliceBegin(full: readonly number[], shape: readonly number[], name: string): number[] {
  if (full.length !== shape.length) throw new RangeError(`${name}: a rank-${shape.length} slice of a rank-${full.length} supernet tensor`);
  return full.map((size, axis) => {
    const want = shape[axis];
    if (want > size) throw new RangeError(`${name}: the subnet needs ${want} along axis ${axis}, the supernet has ${size}`);
    const centred = full.length === 4 && axis < 2;
    if (centred && (size - want) % 2 !== 0) throw new RangeError(`${name}: a ${want}-wide kernel is not centred in a ${size}-wide one`);
    return centred ? (size - want) / 2 : 0;
  });
}

/** A copy of the block of `tensor` of `shape` starting at `begin` (row-major). */
export function sliceTensor(tensor: WeightTensor, begin: readonly number[], shape: readonly number[]): WeightTensor {
  const full = tensor.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const strides = full.map((_, axis) => full.slice(axis + 1).reduce((a, b) => a * b, 1));
  const rank = shape.length;
  const last = rank - 1;
  const rowLength = shape[last];
  const index = new Array<number>(rank).fill(0);
  for (let row = 0; row < size / rowLength; row++) {
    let from = 0;
    for (let axis = 0; axis < last; axis++) from += (begin[axis] + index[axis]) * strides[axis];
    from += begin[last];
    out.set(tensor.values.subarray(from, from + rowLength), row * rowLength);
    for (let axis = last - 1; axis >= 0; axis--) {
      if (++index[axis] < shape[axis]) break;
      index[axis] = 0;
    }
  }
  return { shape: [...shape], values: out };
}

/**
 * The weights of `subnet` as a view of the supernet's (`supernet` reads the
 * supernet's layers by name): each layer's tensors sliced to the subnet's
 * shapes. The result feeds buildOnnxModel or setModelWeights as it is.
 */
export function subnetWeights(supernet: WeightSource, subnet: NetworkPlan, kernelTransform = false): WeightSource {
  const shapes = planWeightShapes(subnet);
  const depthwise = new Set(subnet.blocks.map((b) => b.depthwise.name));
  return (name) => {
    const wanted = shapes.get(name);
    if (!wanted) throw new Error(`layer ${name} is not in the subnet`);
    const tensors = supernet(name);
    if (tensors.length !== wanted.length) throw new RangeError(`${name}: the supernet holds ${tensors.length} tensors, the subnet needs ${wanted.length}`);
    return tensors.map((t, k) => {
      // A smaller depthwise kernel through the supernet's transformation matrices: its first channels, then the steps down.
      if (kernelTransform && depthwise.has(name) && wanted[k][0] < t.shape[0]) {
        const channels = sliceTensor(t, [0, 0, 0, 0], [t.shape[0], t.shape[1], wanted[k][2], 1]);
        return transformKernel(channels, wanted[k][0], supernet(`${name}${KERNEL_TRANSFORM_SUFFIX}`));
      }
      return sliceTensor(t, sliceBegin(t.shape, wanted[k], name), wanted[k]);
    });
  };
}

/** The dimensions a subnet may differ from the supernet in. */
export type ElasticDimension = 'resolution' | 'kernel' | 'depth' | 'expand' | 'width';
/** Every elastic dimension: what the sandwich rule samples from the start. */
export const ALL_ELASTIC: readonly ElasticDimension[] = ['resolution', 'kernel', 'depth', 'expand', 'width'];

const pickOne = <T>(choices: readonly T[], rng: () => number): T => choices[Math.floor(rng() * choices.length)];

/**
 * A subnet drawn uniformly in the `elastic` dimensions, the supernet's
 * (largest) choice in the others: progressive shrinking's phases open the
 * dimensions one after another; the sandwich rule samples all of them.
 */
export function sampleSubnet(space: SupernetSpace, elastic: readonly ElasticDimension[], rng: () => number): Genome {
  const open = new Set(elastic);
  const { config, largest } = space;
  const choose = <T>(dimension: ElasticDimension, choices: readonly T[], max: T): T => (open.has(dimension) ? pickOne(choices, rng) : max);
  return {
    resolution: choose('resolution', config.resolutions, largest.resolution),
    stemWidth: choose('width', config.stemWidths, largest.stemWidth),
    stages: config.stages.map((s, i) => {
      const big = largest.stages[i];
      const depth = choose('depth', s.depths, big.blocks.length);
      return {
        width: choose('width', s.widths, big.width),
        activation: big.activation,
        squeezeExcite: big.squeezeExcite,
        blocks: Array.from({ length: depth }, () => ({
          kernel: choose('kernel', s.kernelSizes, big.blocks[0].kernel),
          expand: choose('expand', s.expandRatios, big.blocks[0].expand),
        })),
      };
    }),
    headWidth: choose('width', config.headWidths, largest.headWidth),
  };
}

/** A {@link WeightSource} over a plan's tensors given flat, layer by layer in {@link planWeightShapes} order (a checkpoint's weights). */
export function flatWeightSource(plan: NetworkPlan, values: readonly Float32Array[], kernelTransform = false): WeightSource {
  const layers = new Map<string, WeightTensor[]>();
  let k = 0;
  for (const [name, shapes] of supernetWeightShapes(plan, kernelTransform)) {
    layers.set(
      name,
      shapes.map((shape) => {
        const v = values[k++];
        const size = shape.reduce((a, b) => a * b, 1);
        if (!v || v.length !== size) throw new RangeError(`supernet weights: tensor ${k - 1} (${name}) should hold ${size} values, holds ${v?.length ?? 'none'}`);
        return { shape, values: v };
      }),
    );
  }
  if (k !== values.length) throw new RangeError(`supernet weights: ${values.length} tensors given, the plan has ${k}`);
  return (name) => {
    const t = layers.get(name);
    if (!t) throw new Error(`the supernet has no layer ${name}`);
    return t;
  };
}

/** `tensor` with its entries along `axis` reordered: entry i of the result is entry order[i] of the input. */
export function permuteAxis(tensor: WeightTensor, axis: number, order: readonly number[]): WeightTensor {
  const { shape, values } = tensor;
  if (order.length !== shape[axis]) throw new RangeError(`a permutation of ${order.length} for an axis of ${shape[axis]}`);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const out = new Float32Array(values.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < order.length; i++) {
      const from = (o * shape[axis] + order[i]) * inner;
      out.set(values.subarray(from, from + inner), (o * shape[axis] + i) * inner);
    }
  }
  return { shape: [...shape], values: out };
}

/**
 * The supernet's weights with each block's expanded (hidden) channels sorted
 * by importance, most important first, so that a smaller expand ratio keeps
 * the channels that matter (Once-for-All re-sorts before its expand phase).
 * A channel's importance is the L1 norm of the projection weights that read
 * it. The block computes the same function after the sort: every layer that
 * writes or reads the hidden channels is permuted alike.
 */
export function sortHiddenChannels(supernet: WeightSource, plan: NetworkPlan): WeightSource {
  const sorted = new Map<string, WeightTensor[]>();
  for (const block of plan.blocks) {
    if (!block.expand) continue;
    const project = supernet(block.project.name)[0]; // [1, 1, hidden, out]
    const [, , hidden, out] = project.shape;
    const importance = Array.from({ length: hidden }, (_, c) => {
      let sum = 0;
      for (let o = 0; o < out; o++) sum += Math.abs(project.values[c * out + o]);
      return sum;
    });
    const order = importance.map((_, c) => c).sort((a, b) => importance[b] - importance[a] || a - b);
    const along = (name: string, axes: number[]) => sorted.set(name, supernet(name).map((t, k) => (axes[k] < 0 ? t : permuteAxis(t, axes[k], order))));
    along(block.expand.name, [3]);
    along(`${block.expand.name}_bn`, [0, 0, 0, 0]);
    along(block.depthwise.name, [2]);
    along(`${block.depthwise.name}_bn`, [0, 0, 0, 0]);
    if (block.squeezeExcite) {
      along(`${block.squeezeExcite.name}_reduce`, [2, -1]);
      along(`${block.squeezeExcite.name}_expand`, [3, 0]);
    }
    along(block.project.name, [2]);
  }
  return (name) => sorted.get(name) ?? supernet(name);
}
