/**
 * The reference network of the training benchmark: MobileNetV2-style, 32×32×3
 * input, seven inverted-residual blocks, about 120k parameters. Fixed here so
 * figures from different runs and backends describe the same layers.
 */
import type { Genome } from '../space/types.js';

export const REFERENCE_GENOME: Genome = {
  resolution: 32,
  stemWidth: 16,
  stages: [
    { width: 16, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 1 }] },
    { width: 24, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 6 }, { kernel: 3, expand: 6 }] },
    { width: 32, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 6 }, { kernel: 3, expand: 6 }] },
    { width: 64, activation: 'relu6', squeezeExcite: false, blocks: [{ kernel: 3, expand: 6 }, { kernel: 3, expand: 6 }] },
  ],
  headWidth: 256,
};

/** Strides of the reference net: stem 1, then 1, 2, 2, 2. */
export const REFERENCE_STRIDES = { stem: 1, stages: [1, 2, 2, 2] };
/** Ten classes of three-channel images, as CIFAR-10. */
export const REFERENCE_DATA = { numClasses: 10, inputChannels: 3 };
