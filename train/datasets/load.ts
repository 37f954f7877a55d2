/**
 * Turns what a user names with `--data` into a {@link Dataset}: the embedded
 * sample, the full Fashion-MNIST from Debian's package, an IDX directory, a
 * CIFAR binary directory or a MedMNIST `.npz`.
 */
import { existsSync, statSync } from 'node:fs';
import { DEBIAN_FASHION_MNIST_DIR, embeddedSampleDir } from '../paths.js';
import type { Dataset } from '../types.js';
import { isCifarDirectory, readCifarDirectory } from './cifar.js';
import { DatasetError } from './errors.js';
import { isIdxDirectory, readIdxDirectory } from './idx.js';
import { readNpz } from './npz.js';

/** Class names of Fashion-MNIST, by label. */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Names `--data` accepts besides a path. */
export const DATASET_ALIASES = {
  /** 5,000 training and 1,000 test images committed with the package. */
  'fashion-mnist-sample': () => readIdxDirectory(embeddedSampleDir(), 'fashion-mnist-sample', FASHION_MNIST_CLASSES),
  /** The full 60,000 + 10,000 set from `apt-get install dataset-fashion-mnist`. */
  'fashion-mnist': () => {
    if (!isIdxDirectory(DEBIAN_FASHION_MNIST_DIR)) {
      throw new DatasetError(
        DEBIAN_FASHION_MNIST_DIR,
        'the full Fashion-MNIST is not installed (as root: apt-get install -y dataset-fashion-mnist), or pass --data DIR',
      );
    }
    return readIdxDirectory(DEBIAN_FASHION_MNIST_DIR, 'fashion-mnist', FASHION_MNIST_CLASSES);
  },
} as const;

/** The embedded default when nothing is named. */
export const DEFAULT_DATASET = 'fashion-mnist-sample';

/** Loads a dataset by alias or path; one {@link DatasetError} names what is wrong. */
export function loadDataset(spec: string = DEFAULT_DATASET): Dataset {
  if (spec in DATASET_ALIASES) return DATASET_ALIASES[spec as keyof typeof DATASET_ALIASES]();
  if (!existsSync(spec)) {
    throw new DatasetError(spec, `not found: expected ${Object.keys(DATASET_ALIASES).join(' or ')}, a directory, or a .npz file`);
  }
  if (statSync(spec).isDirectory()) {
    if (isIdxDirectory(spec)) {
      const classes = Array.from({ length: 10 }, (_, i) => String(i));
      return readIdxDirectory(spec, spec.split('/').filter(Boolean).pop() ?? 'idx', classes);
    }
    if (isCifarDirectory(spec)) return readCifarDirectory(spec);
    throw new DatasetError(spec, 'holds neither the MNIST IDX layout (train-images-idx3-ubyte[.gz] …) nor CIFAR binary files');
  }
  if (spec.endsWith('.npz')) return readNpz(spec);
  throw new DatasetError(spec, 'unknown format: expected a directory (IDX or CIFAR binary) or a MedMNIST .npz file');
}
