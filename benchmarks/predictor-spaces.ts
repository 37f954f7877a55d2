/** Data shapes the named spaces are built for, when a predictor is built without a search config. */
import type { SpaceName } from '../space/defaults.js';
import type { DataShape } from '../space/types.js';

/** small: Fashion-MNIST-like 1-channel, 10 classes; mobilenet-224: RGB, 1000 classes (ImageNet). */
export const PREDICTOR_DATA_SHAPES: Record<SpaceName, DataShape> = {
  small: { inputChannels: 1, numClasses: 10 },
  'mobilenet-224': { inputChannels: 3, numClasses: 1000 },
};
