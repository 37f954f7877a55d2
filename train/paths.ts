/**
 * Data locations of the train/ stage: the Fashion-MNIST sample shipped inside
 * the package, and where Debian installs the full set. Package-wide locations
 * (the package root, the user's cache, the default results directory) live
 * in the leaf module `locations.ts` at the package root.
 */
import { join } from 'node:path';
import { packageRoot } from '../locations.js';

/** The Fashion-MNIST sample committed with the package (IDX, gzipped); read-only. */
export function embeddedSampleDir(): string {
  return join(packageRoot(), 'train', 'data', 'fashion-mnist-sample');
}

/** Where Debian's `dataset-fashion-mnist` package installs the full set. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
