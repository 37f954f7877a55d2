/** Ready-made spaces: one for 28–32 px inputs (the default), one MobileNet-sized for 224 px. */
import type { SearchSpaceConfig, StageSpace } from './types.js';

const searchable = (over: Partial<StageSpace> & Pick<StageSpace, 'depths' | 'widths' | 'stride'>): StageSpace => ({
  expandRatios: [1, 3, 4, 6],
  kernelSizes: [3, 5, 7],
  squeezeExcite: [false, true],
  activations: ['relu6', 'hswish'],
  ...over,
});

/**
 * Sized for 28×28 (Fashion-MNIST, MedMNIST) and 32×32 (CIFAR) images: stride
 * 1 stem, three stride-2 stages down to 4×4 at 28 px; sampled genomes have
 * 31k–1.8M parameters (1st–99th percentile 69k–963k, 20,000 samples).
 */
export const SMALL_IMAGE_SPACE: SearchSpaceConfig = {
  resolutions: [24, 28, 32],
  stemWidths: [8, 16, 24],
  stemStride: 1,
  stages: [
    { depths: [1], widths: [8, 16], expandRatios: [1], kernelSizes: [3], squeezeExcite: [false], activations: ['relu6'], stride: 1 },
    searchable({ depths: [1, 2, 3], widths: [16, 24, 32], stride: 2 }),
    searchable({ depths: [1, 2, 3], widths: [24, 32, 48], stride: 2 }),
    searchable({ depths: [1, 2, 3, 4], widths: [48, 64, 96], stride: 2 }),
    searchable({ depths: [1, 2], widths: [64, 96, 128], stride: 1 }),
  ],
  headWidths: [128, 256, 384],
};

/**
 * MobileNetV3-Large / Once-for-All shaped, for 224 px: widths 16-24-40-80-112-160,
 * strides 1-2-2-2-1-2 after a stride-2 stem, 2–4 blocks per searchable stage.
 */
export const MOBILENET_224_SPACE: SearchSpaceConfig = {
  resolutions: [160, 192, 224],
  stemWidths: [16],
  stemStride: 2,
  stages: [
    { depths: [1], widths: [16], expandRatios: [1], kernelSizes: [3], squeezeExcite: [false], activations: ['relu6'], stride: 1 },
    searchable({ depths: [2, 3, 4], widths: [24], stride: 2, squeezeExcite: [false], activations: ['relu6'] }),
    searchable({ depths: [2, 3, 4], widths: [40], stride: 2, squeezeExcite: [true], activations: ['relu6'] }),
    searchable({ depths: [2, 3, 4], widths: [80], stride: 2, squeezeExcite: [false], activations: ['hswish'] }),
    searchable({ depths: [2, 3, 4], widths: [112], stride: 1, squeezeExcite: [true], activations: ['hswish'] }),
    searchable({ depths: [2, 3, 4], widths: [160], stride: 2, squeezeExcite: [true], activations: ['hswish'] }),
  ],
  headWidths: [960],
};

/** Spaces selectable by name in a config file or `--space`. */
export const NAMED_SPACES = { small: SMALL_IMAGE_SPACE, 'mobilenet-224': MOBILENET_224_SPACE } as const;
/** A name in {@link NAMED_SPACES}. */
export type SpaceName = keyof typeof NAMED_SPACES;
