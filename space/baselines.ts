/**
 * The networks a person would try first, for comparison with a search's
 * front: MobileNetV2 at width ×0.35, ×0.5, ×0.75, ×1.0 and a
 * MobileNetV3-small-style net, written as genomes (with their own stage
 * structure and strides, which genome.json carries), and the plain
 * two-convolution CNN, which is not a genome (see plain-cnn.ts).
 *
 * Adapting to the data's resolution: an ImageNet network halves its 224 px
 * input five times, to 7×7. Here only as many stride-2 layers are kept as
 * bring the input to about 4×4 (three at 28–32 px, the small space's own
 * count), removing the earliest first (the stem's, then the first stage's),
 * as CIFAR adaptations of these networks do.
 */
import type { PlainCnnSpec } from './plain-cnn.js';
import { plainCnnSpec } from './plain-cnn.js';
import type { BlockGene, Genome, StageGene } from './types.js';

export type Strides = { stem: number; stages: number[] };

/** A baseline: a genome with its strides, or the plain CNN. */
export type Baseline =
  | { kind: 'genome'; name: string; genome: Genome; strides: Strides; note: string }
  | { kind: 'plain-cnn'; name: string; spec: PlainCnnSpec; note: string };

export const BASELINE_NAMES = [
  'mobilenetv2-x0.35',
  'mobilenetv2-x0.5',
  'mobilenetv2-x0.75',
  'mobilenetv2-x1.0',
  'mobilenetv3-small',
  'plain-cnn',
] as const;
export type BaselineName = (typeof BASELINE_NAMES)[number];

/** Stride-2 layers that bring `resolution` to about 4×4: three at 28–32 px, five (ImageNet's) at 224. */
export function strideTwoLayers(resolution: number): number {
  return Math.min(5, Math.max(1, Math.round(Math.log2(resolution / 4))));
}

/** Width × multiplier rounded to a multiple of 8, never more than 10% below (MobileNet's rule). */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/** Sets stride 1 on the earliest stride-2 layers (stem first) until `keep` remain. */
function adaptStrides(strides: Strides, keep: number): Strides {
  const all = [strides.stem, ...strides.stages];
  let excess = all.filter((s) => s === 2).length - keep;
  const adapted = all.map((s) => (s === 2 && excess-- > 0 ? 1 : s));
  return { stem: adapted[0], stages: adapted.slice(1) };
}

/** MobileNetV2 (Sandler et al. 2018, table 2) at width multiplier `width`, adapted to `resolution`. */
export function mobileNetV2(width: number, resolution: number): Genome & { strides: Strides } {
  // (expansion t, channels c, blocks n, stride s)
  const table: Array<[number, number, number, 1 | 2]> = [
    [1, 16, 1, 1],
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  const stages: StageGene[] = table.map(([t, c, n]) => ({
    width: makeDivisible(c * width),
    activation: 'relu6',
    squeezeExcite: false,
    blocks: Array.from({ length: n }, (): BlockGene => ({ kernel: 3, expand: t })),
  }));
  const strides = adaptStrides({ stem: 2, stages: table.map(([, , , s]) => s) }, strideTwoLayers(resolution));
  return { resolution, stemWidth: makeDivisible(32 * width), stages, headWidth: width > 1 ? makeDivisible(1280 * width) : 1280, strides };
}

/**
 * MobileNetV3-small (Howard et al. 2019, table 2) as far as genomes reach:
 * its expanded widths (72, 88, 96, …) are not whole multiples of the input,
 * so blocks carry them as `hidden`; the stem takes the first stage's ReLU
 * (V3 uses hard-swish there) and the 1024-wide dense layer after pooling is
 * left out (a genome's head is conv → pool → classifier).
 */
export function mobileNetV3Small(resolution: number): Genome & { strides: Strides } {
  const block = (kernel: 3 | 5, hidden: number, input: number): BlockGene =>
    hidden === input ? { kernel, expand: 1 } : { kernel, expand: Math.max(1, Math.round(hidden / input)), hidden };
  const stages: StageGene[] = [
    { width: 16, activation: 'relu6', squeezeExcite: true, blocks: [block(3, 16, 16)] },
    { width: 24, activation: 'relu6', squeezeExcite: false, blocks: [block(3, 72, 16), block(3, 88, 24)] },
    { width: 40, activation: 'hswish', squeezeExcite: true, blocks: [block(5, 96, 24), block(5, 240, 40), block(5, 240, 40)] },
    { width: 48, activation: 'hswish', squeezeExcite: true, blocks: [block(5, 120, 40), block(5, 144, 48)] },
    { width: 96, activation: 'hswish', squeezeExcite: true, blocks: [block(5, 288, 48), block(5, 576, 96), block(5, 576, 96)] },
  ];
  const strides = adaptStrides({ stem: 2, stages: [2, 2, 2, 1, 2] }, strideTwoLayers(resolution));
  return { resolution, stemWidth: 16, stages, headWidth: 576, strides };
}

/** A baseline by name, adapted to `resolution`. */
export function baseline(name: BaselineName, resolution: number): Baseline {
  if (name === 'plain-cnn') {
    return { kind: 'plain-cnn', name, spec: plainCnnSpec(resolution), note: 'conv5×5(32)-pool-conv5×5(64)-pool-dense, BN after each conv; not a genome (max pooling, flattening classifier)' };
  }
  const split = (g: Genome & { strides: Strides }) => {
    const { strides, ...genome } = g;
    return { genome, strides };
  };
  if (name === 'mobilenetv3-small') {
    return { kind: 'genome', name, ...split(mobileNetV3Small(resolution)), note: 'MobileNetV3-small blocks; ReLU stem, no 1024-wide dense layer' };
  }
  const width = Number(name.split('-x')[1]);
  return { kind: 'genome', name, ...split(mobileNetV2(width, resolution)), note: `MobileNetV2 ×${width}, ${strideTwoLayers(resolution)} stride-2 layers at ${resolution} px` };
}

/** Every baseline (or those named), adapted to `resolution`. */
export function baselines(resolution: number, names: readonly BaselineName[] = BASELINE_NAMES): Baseline[] {
  return names.map((n) => baseline(n, resolution));
}
