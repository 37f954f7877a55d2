/**
 * A dataset made ready for training: normalised with training statistics,
 * validation held out (or MedMNIST's own), and a content fingerprint that
 * keys caches such as the teacher's logits.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_VALIDATION_FRACTION } from '../constants.js';
import type { Dataset, ImageSet, Normalisation, TensorSplit } from '../types.js';
import seedrandom from 'seedrandom';
import { channelStatistics, normalise, permutation, splitValidation } from './prepare.js';

/** A dataset ready for training: validation split held out, normalised with the training split’s statistics. */
export interface PreparedData {
  name: string;
  numClasses: number;
  classNames: string[];
  normalisation: Normalisation;
  train: TensorSplit;
  validation: TensorSplit;
  test: TensorSplit;
  /** For each training image, its index in the dataset's full training split. */
  trainIndices: Int32Array;
  /** sha256 of the full training split's pixels and labels (hex, 16 chars). */
  fingerprint: string;
  /**
   * The full training split, normalised: what teacher logits are computed on.
   * Built on first call and kept; training workers never call it, so they do
   * not hold a second normalised copy of the training data.
   */
  fullTrain: () => TensorSplit;
}

/** How {@link prepareData} splits; all optional. */
export interface PrepareOptions {
  /** @default 0.1 */
  validationFraction?: number;
  /** Seed of the validation split. @default 0 */
  seed?: number;
}

/** A split as a run records it: both fields given. */
export type DataSplit = Required<PrepareOptions>;

/** Content hash of an image set: same pixels and labels, same fingerprint. */
export function fingerprint(set: ImageSet): string {
  const hash = createHash('sha256');
  hash.update(`${set.count}x${set.height}x${set.width}x${set.channels}`);
  hash.update(set.pixels);
  hash.update(new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength));
  return hash.digest('hex').slice(0, 16);
}

/** Holds out a seeded validation split and normalises every split with the training split’s per-channel statistics. */
export function prepareData(dataset: Dataset, options: PrepareOptions = {}): PreparedData {
  const norm = channelStatistics(dataset.train);
  let train: ImageSet;
  let validation: ImageSet;
  let trainIndices: Int32Array;
  if (dataset.validation) {
    train = dataset.train;
    validation = dataset.validation;
    trainIndices = Int32Array.from({ length: train.count }, (_, i) => i);
  } else {
    const split = splitValidation(dataset.train, options.validationFraction ?? DEFAULT_VALIDATION_FRACTION, options.seed ?? 0);
    ({ train, validation, trainIndices } = split);
  }
  let fullTrain: TensorSplit | undefined;
  return {
    name: dataset.name,
    numClasses: dataset.numClasses,
    classNames: dataset.classNames,
    normalisation: norm,
    train: normalise(train, norm),
    validation: normalise(validation, norm),
    test: normalise(dataset.test, norm),
    trainIndices,
    fingerprint: fingerprint(dataset.train),
    fullTrain: () => (fullTrain ??= normalise(dataset.train, norm)),
  };
}

/**
 * The same data with training cut to `size` images, chosen by a seeded,
 * class-blind draw that is the same for every candidate of a run (a fair
 * comparison); validation and test are untouched.
 */
export function withTrainingSubset(data: PreparedData, size: number, seed: number): PreparedData {
  if (size >= data.train.count) return data;
  const order = subsetOrder(data.train.count, seed).subarray(0, size).sort();
  const { split, indices } = gather(data, order);
  return { ...data, train: split, trainIndices: indices };
}

/**
 * Up to `count` training-split images that {@link withTrainingSubset}`(data,
 * size, seed)` leaves out: never trained on by a candidate of that subset, so
 * as good as validation images for ranking candidates, and far more of them
 * than the validation split holds. A seeded draw (the rest of the subset's
 * own order), the same for every candidate; empty when the subset is the
 * whole split.
 */
export function trainingImagesOutsideSubset(data: PreparedData, size: number, seed: number, count: number): TensorSplit {
  const outside = size >= data.train.count ? new Int32Array(0) : subsetOrder(data.train.count, seed).subarray(size);
  return gather(data, outside.slice(0, Math.max(0, count)).sort()).split;
}

/** The seeded order whose first `size` entries are a run's training subset. */
function subsetOrder(count: number, seed: number): Int32Array {
  return permutation(count, seedrandom(`subset:${seed}`));
}

/** The training images at `order` (indices into `data.train`), with their full-split indices. */
function gather(data: PreparedData, order: ArrayLike<number>): { split: TensorSplit; indices: Int32Array } {
  const imageSize = data.train.height * data.train.width * data.train.channels;
  const images = new Float32Array(order.length * imageSize);
  const labels = new Int32Array(order.length);
  const indices = new Int32Array(order.length);
  for (let k = 0; k < order.length; k++) {
    const i = order[k];
    images.set(data.train.images.subarray(i * imageSize, (i + 1) * imageSize), k * imageSize);
    labels[k] = data.train.labels[i];
    indices[k] = data.trainIndices[i];
  }
  return { split: { ...data.train, images, labels, count: order.length }, indices };
}
